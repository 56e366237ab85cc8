import FoundationEssentials

#if canImport(Glibc)
    import Glibc
#endif

/// Timestamps written with the C library: Foundation's date formatters load ICU, which costs
/// several megabytes of memory for a handful of fixed formats.
package enum Timestamp {
    /// "2026-11-21T03:30:00Z", or with milliseconds "2026-11-21T03:30:00.123Z".
    package static func iso8601(_ date: Date, milliseconds: Bool = false) -> String {
        let base = format(date, "%Y-%m-%dT%H:%M:%S", utc: true)
        guard milliseconds else { return base + "Z" }
        let millis = Int((date.timeIntervalSince1970 * 1000).rounded(.down)) % 1000
        return base + "." + String(repeating: "0", count: 3 - String(millis).count) + String(millis) + "Z"
    }

    /// A strftime(3) pattern in local time (or UTC).
    package static func format(_ date: Date, _ pattern: String, utc: Bool = false) -> String {
        var seconds = time_t(date.timeIntervalSince1970.rounded(.down))
        var parts = tm()
        if utc { gmtime_r(&seconds, &parts) } else { localtime_r(&seconds, &parts) }
        var buffer = [CChar](repeating: 0, count: 64)
        let count = strftime(&buffer, buffer.count, pattern, &parts)
        return String(decoding: buffer.prefix(count).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
