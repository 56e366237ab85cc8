import FoundationEssentials

#if canImport(Glibc)
    import Glibc
#endif

/// `openssl x509 -noout -enddate`: `notAfter=Jan  5 12:00:00 2027 GMT` (ASN1_TIME_print's form,
/// the same in OpenSSL 1.1 and 3).
package enum CertificateDates {
    static let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

    package static func notAfter(_ output: String) -> Date? {
        guard let line = output.split(whereSeparator: \.isNewline).first(where: { $0.hasPrefix("notAfter=") }) else { return nil }
        let words = line.dropFirst("notAfter=".count).split(separator: " ")
        guard words.count == 5, words[4] == "GMT", let month = months.firstIndex(of: String(words[0])),
            let day = Int(words[1]), let year = Int(words[3])
        else { return nil }
        let time = words[2].split(separator: ":").compactMap { Int($0) }
        guard time.count == 3 else { return nil }
        var fields = tm()
        (fields.tm_year, fields.tm_mon, fields.tm_mday) = (Int32(year - 1900), Int32(month), Int32(day))
        (fields.tm_hour, fields.tm_min, fields.tm_sec) = (Int32(time[0]), Int32(time[1]), Int32(time[2]))
        return Date(timeIntervalSince1970: TimeInterval(timegm(&fields)))
    }
}
