import Foundation

enum Fixture {
    static func text(_ path: String) throws -> String {
        guard let url = Bundle.module.url(forResource: "Fixtures/" + path, withExtension: nil) else {
            throw CocoaError(.fileNoSuchFile, userInfo: [NSFilePathErrorKey: path])
        }
        return try String(contentsOf: url, encoding: .utf8)
    }
}
