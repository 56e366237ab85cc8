import Foundation
import Testing

/// Not a test of size or speed: run with AILAB_BENCHMARK=1 to print the release binary's figures:
/// its shared libraries, its size before and after strip, and the peak resident memory of ailab
/// itself during a full healthcheck on this host. The peak is read from VmHWM in /proc while the
/// run goes on, so the commands it starts (a docker client alone holds 20 MB) do not count, as
/// they would in `/usr/bin/time`'s figure.
@Suite(.timeLimit(.minutes(10))) struct BinaryBenchmark {
    @Test(.enabled(if: ProcessInfo.processInfo.environment["AILAB_BENCHMARK"] == "1"))
    func releaseBinaryFigures() throws {
        let binary = try ReleaseBinary.path()
        let scratch = try Scratch()
        let stripped = scratch.file("ailab")
        try Command.check("strip", ["-o", stripped, binary])
        // A file just written sits in the page cache in large folios, and a fault maps the whole
        // folio: the same binary then shows up to 2 MB more. Read back from disk, as after a reboot.
        let descriptor = open(stripped, O_RDONLY)
        fsync(descriptor)
        posix_fadvise(descriptor, 0, 0, POSIX_FADV_DONTNEED)
        close(descriptor)
        let libraries = try Command.check("ldd", [stripped]).split(separator: "\n")
            .compactMap { $0.split(whereSeparator: \.isWhitespace).first }.joined(separator: " ")
        let size = try megabytes(binary), strippedSize = try megabytes(stripped)
        print("release binary: \(size) MB, stripped \(strippedSize) MB; ldd: \(libraries)")
        for arguments in [["--version"], ["disk-watch"], ["healthcheck"]] {
            let peaks = try (0..<9).map { _ in try peakResidentKilobytes(stripped, arguments) }.sorted()
            print("ailab \(arguments.joined(separator: " ")): own peak RSS median \(peaks[4]) KB (\(peaks[0])–\(peaks[8]) KB over 9 runs)")
        }
    }

    func megabytes(_ path: String) throws -> String {
        let bytes = try FileManager.default.attributesOfItem(atPath: path)[.size] as? Int ?? 0
        return String(format: "%.1f", Double(bytes) / 1_000_000)
    }

    func peakResidentKilobytes(_ binary: String, _ arguments: [String]) throws -> Int {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = arguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        var peak = 0
        while process.isRunning {
            let status = (try? String(contentsOfFile: "/proc/\(process.processIdentifier)/status", encoding: .utf8)) ?? ""
            for line in status.split(separator: "\n") where line.hasPrefix("VmHWM:") {
                peak = max(peak, Int(line.split(whereSeparator: \.isWhitespace)[1]) ?? 0)
            }
            usleep(200)
        }
        return peak
    }
}
