/// `apt-cache policy NAME…`: for each package, the versions some source other than dpkg's own
/// status file still offers, that is the versions `apt-get download` can fetch.
package enum AptPolicy {
    package static func downloadable(_ output: String) -> [String: Set<String>] {
        var found: [String: Set<String>] = [:]
        var package: String?
        var version: String?
        for line in output.split(whereSeparator: \.isNewline) {
            if !line.hasPrefix(" ") {
                package = line.hasSuffix(":") ? String(line.dropLast()) : nil
                version = nil
                continue
            }
            guard let name = package else { continue }
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            let indent = line.prefix { $0 == " " }.count
            // "     2.0 500" or " *** 1.0 500": a version; deeper "        500 file:/srv/repo ./ Packages": its source.
            if fields.first == "***" || (indent <= 5 && fields.count == 2 && Int(fields[1]) != nil) {
                version = fields.first == "***" ? fields.dropFirst().first.map(String.init) : String(fields[0])
            } else if let current = version, fields.count >= 2, Int(fields[0]) != nil, fields[1] != "/var/lib/dpkg/status" {
                found[name, default: []].insert(current)
            } else if fields.first == "Installed:" || fields.first == "Candidate:" || fields.first == "Version" {
                version = nil
            }
        }
        return found
    }
}
