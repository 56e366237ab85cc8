/// Whether the kernel the host boots next has an NVIDIA module: the newest installed kernel
/// image (by dpkg's version order, as kernel-cleanup counts them) needs either DKMS's build for
/// it or Ubuntu's prebuilt `linux-modules-nvidia-<branch>-<kernel>` package.
package enum NextBootDriver {
    /// The newest installed versioned kernel image: its release ("6.8.0-51-generic").
    package static func newestKernel(_ images: [InstalledPackage]) -> String? {
        images.filter(\.isInstalled)
            .compactMap { image in PackageRules.kernelRelease(ofImage: image.name).map { (release: $0, version: image.version) } }
            .max { DebianVersion.compare($0.version, $1.version) < 0 }?.release
    }

    package static func check(kernel: String, dkms: [DKMSModule], modulePackages: [InstalledPackage]) -> Check {
        let built = dkms.filter { $0.module.hasPrefix("nvidia") && $0.kernel == kernel && $0.state == "installed" }
        if let module = built.first {
            return Check("next boot", .ok, "\(kernel) has the NVIDIA module from DKMS (\(module.summary))")
        }
        let prebuilt = modulePackages.filter {
            $0.isInstalled && $0.name.hasPrefix("linux-modules-nvidia-") && $0.name.hasSuffix("-" + kernel)
        }
        if let package = prebuilt.first {
            return Check("next boot", .ok, "\(kernel) has the NVIDIA module from \(package.name)")
        }
        return Check(
            "next boot", .warning,
            "the next boot into \(kernel) would come up without the NVIDIA driver "
                + "(no DKMS build and no linux-modules-nvidia-*-\(kernel) package)",
            next: "before rebooting: sudo dkms autoinstall -k \(kernel)")
    }
}

/// dpkg's version order: epoch, then upstream version and Debian revision compared in runs of
/// non-digits (letters before non-letters, `~` before anything, even the end) and digits.
package enum DebianVersion {
    package static func compare(_ a: String, _ b: String) -> Int {
        let (epochA, restA) = split(a), (epochB, restB) = split(b)
        if epochA != epochB { return epochA < epochB ? -1 : 1 }
        let (upstreamA, revisionA) = revision(restA), (upstreamB, revisionB) = revision(restB)
        let upstream = part(upstreamA, upstreamB)
        return upstream != 0 ? upstream : part(revisionA, revisionB)
    }

    private static func split(_ version: String) -> (Int, Substring) {
        guard let colon = version.firstIndex(of: ":"), let epoch = Int(version[..<colon]) else { return (0, version[...]) }
        return (epoch, version[version.index(after: colon)...])
    }

    private static func revision(_ version: Substring) -> (Substring, Substring) {
        guard let dash = version.lastIndex(of: "-") else { return (version, "") }
        return (version[..<dash], version[version.index(after: dash)...])
    }

    private static func order(_ character: Character?) -> Int {
        guard let character else { return 0 }
        if character == "~" { return -1 }
        if character.isLetter { return Int(character.asciiValue ?? 0) }
        return Int(character.asciiValue ?? 0) + 256
    }

    private static func part(_ a: Substring, _ b: Substring) -> Int {
        var a = a, b = b
        while !a.isEmpty || !b.isEmpty {
            let textA = a.prefix { !$0.isNumber }, textB = b.prefix { !$0.isNumber }
            a = a.dropFirst(textA.count)
            b = b.dropFirst(textB.count)
            var left = textA.makeIterator(), right = textB.makeIterator()
            while true {
                let x = left.next(), y = right.next()
                if x == nil && y == nil { break }
                let difference = order(x) - order(y)
                if difference != 0 { return difference < 0 ? -1 : 1 }
            }
            let digitsA = a.prefix(while: \.isNumber), digitsB = b.prefix(while: \.isNumber)
            a = a.dropFirst(digitsA.count)
            b = b.dropFirst(digitsB.count)
            let numberA = Int(digitsA.drop { $0 == "0" }) ?? 0, numberB = Int(digitsB.drop { $0 == "0" }) ?? 0
            if numberA != numberB { return numberA < numberB ? -1 : 1 }
        }
        return 0
    }
}
