@testable import AilabCore
import AilabTestSupport
import Testing

@Suite(.timeLimit(.minutes(2))) struct ExitStatusTests {
    @Test(arguments: [
        (AilabError.usage("bad value") as any Error, AilabCore.ExitStatus.usage),
        (AilabError.failed("guard refused"), .failed),
        (RunnerError.notFound("apt-get"), .usage),
        (RunnerError.interrupted, .failed),
        (RunnerError.launchFailed("x", "EACCES"), .failed),
        (ParseError("df", "bad header"), .failed),
    ])
    func everyErrorKindMapsToZeroOneOrTwo(error: any Error, expected: AilabCore.ExitStatus) {
        #expect(ExitStatus(for: error) == expected)
    }

    @Test func onlyThreeCodesExist() {
        #expect([AilabCore.ExitStatus.ok, .failed, .usage].map(\.rawValue) == [0, 1, 2])
        #expect(AilabCore.ExitStatus(rawValue: 64) == nil)
    }

    @Test(arguments: [
        (false, false, RunMode.dryRun),
        (true, false, .execute(interactive: true)),
        (true, true, .execute(interactive: false)),
    ])
    func safetyFlagsGiveTheMode(execute: Bool, nonInteractive: Bool, expected: RunMode) throws {
        #expect(try RunMode.from(execute: execute, nonInteractive: nonInteractive) == expected)
    }

    @Test func nonInteractiveAloneIsAUsageError() {
        #expect(throws: AilabError.usage("--non-interactive is only accepted together with --execute")) {
            try RunMode.from(execute: false, nonInteractive: true)
        }
    }
}
