import ArgumentParser

/// The task names, for `help <task>` and for suggesting the nearest one to a typo.
enum TaskName {
    static var all: [String] {
        Ailab.configuration.groupedSubcommands.flatMap(\.subcommands).map { $0._commandName }
    }

    /// A first word that is neither a task, `help` nor an option: refused with the nearest task.
    /// `help <word>` likewise, instead of the root help and exit 0.
    static func check(_ arguments: [String]) throws {
        let words = arguments.first == "help" ? Array(arguments.dropFirst()) : arguments
        guard let word = words.first, !word.hasPrefix("-"), word != "help", !all.contains(word) else { return }
        let nearest = all.min { distance($0, word) < distance($1, word) }
        let hint = nearest.map { distance($0, word) <= 3 ? "; did you mean '\($0)'?" : "" } ?? ""
        throw ValidationError("unknown task '\(word)'\(hint) (tasks: \(all.joined(separator: ", ")))")
    }

    /// Levenshtein distance.
    static func distance(_ a: String, _ b: String) -> Int {
        let a = Array(a), b = Array(b)
        guard !a.isEmpty else { return b.count }
        var row = Array(0...b.count)
        for i in 1...a.count {
            var diagonal = row[0]
            row[0] = i
            for j in stride(from: 1, through: b.count, by: 1) {
                let above = row[j]
                row[j] = min(above + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1))
                diagonal = above
            }
        }
        return row[b.count]
    }
}
