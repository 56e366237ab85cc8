package enum AilabVersion {
    package static let current = "0.1.0"
}
