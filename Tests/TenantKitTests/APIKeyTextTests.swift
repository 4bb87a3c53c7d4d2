import Foundation
@testable import TenantKit
import Testing

/// Reading the ids out of a presented key, before the database checks it.
@Suite struct APIKeyTextTests {
    private let key = UUID(uuidString: "0a1b2c3d-4e5f-4061-8728-394a5b6c7d8e")!
    private let org = UUID(uuidString: "f0e1d2c3-b4a5-4697-8889-7a6b5c4d3e2f")!

    @Test func theIdsComeOutOfAKeyOfTheCurrentFormat() throws {
        let (text, prefix) = APIKeyText.generate(orgID: org, keyID: key)
        #expect(prefix == "tk_0a1b2c3d4e5f40618728394a5b6c7d8e")
        let parsed = try #require(APIKeyText(text))
        #expect(parsed.keyID == key && parsed.orgID == org)
        // Upper-case ids name the same key.
        let upper = "tk_0A1B2C3D4E5F40618728394A5B6C7D8E_F0E1D2C3B4A546978889" + "7A6B5C4D3E2F_secret"
        #expect(APIKeyText(upper).map { ($0.keyID, $0.orgID) } ?? (UUID(), UUID()) == (key, org))
    }

    @Test(arguments: [
        "tk_0a1b2c3d4e5f40618728394a5b6c7d8_f0e1d2c3b4a546978889 7a6b5c4d3e2f_s",  // 31 digits, a space
        "tk_0a1b2c3d4e5f40618728394a5b6c7d8e0_f0e1d2c3b4a5469788897a6b5c4d3e2f_s",  // 33 digits
        "tk_0a1b2c3d4e5f40618728394a5b6c7d8g_f0e1d2c3b4a5469788897a6b5c4d3e2f_s",  // g is no digit
        "tk_0a1b2c3d4e5f40618728394a5b6c7dé_f0e1d2c3b4a5469788897a6b5c4d3e2f_s",  // not ASCII
        "tk_0a1b2c3d4e5f40618728394a5b6c7d8e_f0e1d2c3b4a5469788897a6b5c4d3e2f_",  // no secret
        "tk_abcdef12_secret",  // the first format: looked up instead
    ])
    func anythingElseIsNotOfTheCurrentFormat(text: String) {
        #expect(APIKeyText(text) == nil)
    }
}
