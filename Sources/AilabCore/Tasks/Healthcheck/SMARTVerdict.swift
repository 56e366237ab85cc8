/// A device's check from its SMART data: the verdict with its reasons, worst first, and what to
/// do about the worst of them.
extension SmartHealth {
    /// What to do about the worst finding of `verdict`, in one line.
    package var nextStep: String? {
        switch verdict.0 {
        case .failed: "copy the data off \(device) and replace it"
        case .warning where SmartExitStatus(rawValue: exitStatus).contains(.openFailed): "read it by hand: sudo smartctl -a \(device)"
        case .warning: "watch the counts (sudo smartctl -a \(device)) and plan a replacement if they grow"
        default: nil
        }
    }

    /// The verdict and the reasons behind it, worst first.
    package var verdict: (Status, String) {
        if standby { return (.ok, "in standby, not woken") }
        let bits = SmartExitStatus(rawValue: exitStatus)
        var failures: [String] = []
        var warnings: [String] = []
        if bits.contains(.commandLineError) || bits.contains(.openFailed) {
            return (.warning, "cannot read SMART data: \(messages.first ?? "smartctl exit \(exitStatus)")")
        }
        if passed == false || bits.contains(.diskFailing) { failures.append("SMART overall-health FAILING") }
        if bits.contains(.prefailAtThreshold) { failures.append("a pre-failure attribute is at or below its threshold") }
        if let warning = nvmeCriticalWarning, warning != 0 { failures.append("NVMe critical warning 0x\(String(warning, radix: 16))") }
        if let count = reallocatedSectors, count > 0 { warnings.append("\(count) reallocated sectors") }
        if let count = pendingSectors, count > 0 { warnings.append("\(count) pending sectors") }
        if let count = nvmeMediaErrors, count > 0 { warnings.append("\(count) media errors") }
        if let used = nvmePercentageUsed, used >= 90 { warnings.append("\(used)% of rated endurance used") }
        if bits.contains(.pastThreshold) { warnings.append("an attribute was at its threshold in the past") }
        if bits.contains(.errorLogEntries) { warnings.append("the device error log has entries") }
        if bits.contains(.selfTestErrors) { warnings.append("the self-test log reports errors") }
        if bits.contains(.commandFailed) { warnings.append("a SMART command failed") }
        let facts = [
            model, passed == true ? "PASSED" : nil, temperatureC.map { "\($0) °C" },
            nvmePercentageUsed.map { "\($0)% used" },
        ].compactMap { $0 }
        let reasons = (failures + warnings + facts).joined(separator: "; ")
        if !failures.isEmpty { return (.failed, reasons) }
        if !warnings.isEmpty { return (.warning, reasons) }
        return (.ok, reasons)
    }
}
