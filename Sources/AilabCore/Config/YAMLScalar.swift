/// What a plain (unquoted) scalar means. ailab.yaml is written by Ansible, which reads YAML 1.1
/// through PyYAML, and read by tools that follow YAML 1.2's core schema. A plain scalar is taken
/// only where both read it alike: null, true/false, a decimal integer, or text that neither reads
/// as anything else. Everything else (`010`, `yes`, `on`, `1_000`, `0x1F`, `1.5`, `1:30`,
/// `2026-01-01`, `=`, `<<`) is refused, with the way to write it unambiguously.
enum YAMLScalar: Equatable {
    case null
    case boolean(Bool)
    case integer(Int)
    case text(String)

    static func resolve(plain text: String) -> YAMLScalar? {
        if ["", "~", "null", "Null", "NULL"].contains(text) { return .null }
        if ["true", "True", "TRUE"].contains(text) { return .boolean(true) }
        if ["false", "False", "FALSE"].contains(text) { return .boolean(false) }
        if text.wholeMatch(of: /[-+]?(0|[1-9][0-9]*)/) != nil, let value = Int(text) { return .integer(value) }
        return readsAsText11(text) && readsAsText12(text) ? .text(text) : nil
    }

    /// The hint for a plain scalar that `resolve` refused.
    static func hint(_ text: String) -> String {
        let word = ["yes", "no", "on", "off"].contains(text.lowercased())
        let shown = ConfigYAML.shown(text)
        return "'\(shown)' is read differently by YAML 1.1 and 1.2 (or as a number, date or key where text is meant); "
            + (word ? "write true or false, or quote it" : "quote it ('\(shown)'), or write a plain decimal number")
    }

    /// PyYAML's implicit resolvers (YAML 1.1), each tried only for the first characters it lists.
    private static func readsAsText11(_ text: String) -> Bool {
        guard let first = text.first else { return false }
        if "yYnNtTfFoO".contains(first),
            text.wholeMatch(of: /yes|Yes|YES|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF/) != nil
        {
            return false
        }
        if "-+0123456789.".contains(first), text.wholeMatch(of: float11) != nil { return false }
        if "-+0123456789".contains(first), text.wholeMatch(of: integer11) != nil { return false }
        if "0123456789".contains(first), text.wholeMatch(of: timestamp11) != nil { return false }
        return !["<<", "=", "~"].contains(text) && !["null", "Null", "NULL"].contains(text)
    }

    /// YAML 1.2's core schema.
    private static func readsAsText12(_ text: String) -> Bool {
        text.wholeMatch(of: /[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+/) == nil
            && text.wholeMatch(of: /[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?|[-+]?\.(inf|Inf|INF)|\.(nan|NaN|NAN)/) == nil
    }

    private nonisolated(unsafe) static let float11 =
        /[-+]?([0-9][0-9_]*)\.[0-9_]*([eE][-+][0-9]+)?|\.[0-9][0-9_]*([eE][-+][0-9]+)?|[-+]?[0-9][0-9_]*(:[0-5]?[0-9])+\.[0-9_]*|[-+]?\.(inf|Inf|INF)|\.(nan|NaN|NAN)/
    private nonisolated(unsafe) static let integer11 =
        /[-+]?0b[0-1_]+|[-+]?0[0-7_]+|[-+]?(0|[1-9][0-9_]*)|[-+]?0x[0-9a-fA-F_]+|[-+]?[1-9][0-9_]*(:[0-5]?[0-9])+/
    private nonisolated(unsafe) static let timestamp11 =
        /[0-9]{4}-[0-9]{2}-[0-9]{2}|[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}([Tt]|[ \t]+)[0-9]{1,2}:[0-9]{2}:[0-9]{2}(\.[0-9]*)?([ \t]*(Z|[-+][0-9]{1,2}(:[0-9]{2})?))?/
}
