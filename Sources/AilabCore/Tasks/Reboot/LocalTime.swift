import FoundationEssentials

#if canImport(Glibc)
    import Glibc
#endif

/// The host's local time, as shutdown(8) and an administrator's window read it (the C library's
/// zone: TZ, else /etc/localtime).
package enum LocalTime {
    /// The day's time at hour:minute, `days` days after `date`'s day; with its weekday (0 is Sunday).
    static func at(hour: Int, minute: Int, days: Int, from date: Date) -> (date: Date, weekday: Int) {
        var parts = fields(date)
        parts.tm_mday += Int32(days)
        parts.tm_hour = Int32(hour)
        parts.tm_min = Int32(minute)
        parts.tm_sec = 0
        parts.tm_isdst = -1
        let moment = mktime(&parts)
        return (Date(timeIntervalSince1970: TimeInterval(moment)), Int(parts.tm_wday))
    }

    /// Minutes after local midnight and the weekday of `date`.
    static func clock(_ date: Date) -> (minutes: Int, weekday: Int) {
        let parts = fields(date)
        return (Int(parts.tm_hour) * 60 + Int(parts.tm_min), Int(parts.tm_wday))
    }

    /// "Sat 2026-12-12 03:00 UTC" in the host's zone.
    package static func format(_ date: Date) -> String {
        text(fields(date), "%a %Y-%m-%d %H:%M %Z")
    }

    /// "2026-12-12 03:00:00 UTC", as systemd's OnCalendar= takes a moment.
    package static func utc(_ date: Date) -> String {
        text(fields(date, utc: true), "%Y-%m-%d %H:%M:%S UTC")
    }

    /// The calendar fields of `date`, local (localtime_r) or in UTC (gmtime_r).
    private static func fields(_ date: Date, utc: Bool = false) -> tm {
        var seconds = time_t(date.timeIntervalSince1970)
        var parts = tm()
        if utc { gmtime_r(&seconds, &parts) } else { localtime_r(&seconds, &parts) }
        return parts
    }

    private static func text(_ parts: tm, _ pattern: String) -> String {
        var parts = parts
        var buffer = [CChar](repeating: 0, count: 64)
        let count = strftime(&buffer, buffer.count, pattern, &parts)
        return String(decoding: buffer.prefix(count).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// "HH:MM" → (hour, minute).
    static func hourMinute(_ text: some StringProtocol) -> (Int, Int)? {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 2, parts.allSatisfy({ $0.count == 2 && $0.allSatisfy(\.isASCII) && $0.allSatisfy(\.isNumber) }),
            let hour = Int(parts[0]), let minute = Int(parts[1]), (0...23).contains(hour), (0...59).contains(minute)
        else { return nil }
        return (hour, minute)
    }
}

/// When `ailab reboot --at` reboots, in shutdown(8)'s words: `now`, `+MINUTES`, or `HH:MM` (the
/// next time the clock shows it).
package enum RebootTime: Sendable, Equatable {
    case now
    case inMinutes(Int)
    case clock(hour: Int, minute: Int)

    package init?(_ text: String) {
        if text == "now" {
            self = .now
        } else if text.hasPrefix("+"), text.count > 1, text.count <= 6, text.dropFirst().allSatisfy({ $0.isASCII && $0.isNumber }),
            let minutes = Int(text.dropFirst())
        {
            self = minutes == 0 ? .now : .inMinutes(minutes)
        } else if let (hour, minute) = LocalTime.hourMinute(text) {
            self = .clock(hour: hour, minute: minute)
        } else {
            return nil
        }
    }

    package func date(after now: Date) -> Date {
        switch self {
        case .now: return now
        case .inMinutes(let minutes): return now.addingTimeInterval(Double(minutes) * 60)
        case .clock(let hour, let minute):
            let today = LocalTime.at(hour: hour, minute: minute, days: 0, from: now).date
            return today > now ? today : LocalTime.at(hour: hour, minute: minute, days: 1, from: now).date
        }
    }
}

/// `reboot.window`: the days and hours a reboot may start, such as `Sat 03:00-05:00`,
/// `Mon..Fri 02:00-04:00`, `Sat,Sun 22:00-02:00` (past midnight) or `03:00-05:00` (every day).
package struct RebootWindow: Sendable, Equatable, CustomStringConvertible {
    static let dayNames = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
    /// Weekdays the window opens on, 0 being Sunday.
    let days: Set<Int>
    let start: (hour: Int, minute: Int)
    let end: (hour: Int, minute: Int)
    package let description: String

    package init?(_ text: String) {
        let words = text.split(separator: " ", omittingEmptySubsequences: true)
        guard words.count == 1 || words.count == 2, let hours = words.last else { return nil }
        let bounds = hours.split(separator: "-", omittingEmptySubsequences: false)
        guard bounds.count == 2, let start = LocalTime.hourMinute(bounds[0]), let end = LocalTime.hourMinute(bounds[1]),
            start != end
        else { return nil }
        var days = Set<Int>()
        if words.count == 2 {
            for item in words[0].split(separator: ",", omittingEmptySubsequences: false) {
                let range = item.split(separator: ".", omittingEmptySubsequences: true)
                guard item.filter({ $0 == "." }).count == (range.count == 2 ? 2 : 0),
                    let first = range.first.flatMap({ Self.dayNames.firstIndex(of: String($0)) }),
                    let last = range.last.flatMap({ Self.dayNames.firstIndex(of: String($0)) })
                else { return nil }
                var day = first
                while true {
                    days.insert(day)
                    if day == last { break }
                    day = (day + 1) % 7
                }
            }
        } else {
            days = Set(0..<7)
        }
        self.days = days
        self.start = start
        self.end = end
        description = text
    }

    package static func == (lhs: RebootWindow, rhs: RebootWindow) -> Bool { lhs.description == rhs.description }

    var startMinutes: Int { start.hour * 60 + start.minute }
    var endMinutes: Int { end.hour * 60 + end.minute }

    /// Whether `date` falls inside the window; one that passes midnight belongs to the day it opened.
    package func contains(_ date: Date) -> Bool {
        let (minutes, weekday) = LocalTime.clock(date)
        if startMinutes < endMinutes { return days.contains(weekday) && minutes >= startMinutes && minutes < endMinutes }
        return (days.contains(weekday) && minutes >= startMinutes) || (days.contains((weekday + 6) % 7) && minutes < endMinutes)
    }

    /// `now` inside the window, else the window's next opening.
    package func next(after now: Date) -> Date {
        if contains(now) { return now }
        for offset in 0...7 {
            let opening = LocalTime.at(hour: start.hour, minute: start.minute, days: offset, from: now)
            if opening.date > now && days.contains(opening.weekday) { return opening.date }
        }
        return now
    }
}
