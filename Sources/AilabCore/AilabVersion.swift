public enum AilabVersion {
    public static let current = "0.1.0"
}
