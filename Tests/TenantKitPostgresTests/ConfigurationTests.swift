import Foundation
import TenantKitPostgres
import TenantKitTesting
import Testing

@Suite struct ConfigurationTests {
    @Test func parsesAFullURL() throws {
        let config = try PostgresConfiguration(url: "postgres://app:s3cret@db.example.com:6543/stratix?sslmode=require&application_name=api")
        #expect(config.host == "db.example.com")
        #expect(config.port == "6543")
        #expect(config.user == "app")
        #expect(config.database == "stratix")
        #expect(config.parameters["password"] == "s3cret")
        #expect(config.parameters["sslmode"] == "require")
        #expect(config.parameters["application_name"] == "api")
    }

    @Test func parsesUnixSocketForms() throws {
        let query = try PostgresConfiguration(url: "postgresql:///stratix?host=/var/run/postgresql")
        #expect(query.host == "/var/run/postgresql")
        #expect(query.database == "stratix")
        let encoded = try PostgresConfiguration(url: "postgres://app@%2Ftmp%2Fpg:5433/db")
        #expect(encoded.host == "/tmp/pg")
        #expect(encoded.port == "5433")
    }

    @Test func printingMasksThePassword() throws {
        let config = try PostgresConfiguration(url: "postgres://app:s3cret@localhost/db")
        #expect(!"\(config)".contains("s3cret"))
        #expect("\(config)".contains("app"))
    }

    @Test(arguments: [
        ("mysql://u@h/db", "unsupported URL scheme"),
        ("localhost:5432/db", "not a PostgreSQL URL"),
        ("postgres://u:pw@host:notaport/db", "port"),
        ("postgres://u:pw@host/db?nosuchoption=1", "nosuchoption"),
    ])
    func badURLsSayWhatIsWrong(url: String, expected: String) async {
        let error = await captureError(PostgresClientError.self) { try PostgresConfiguration(url: url) }
        #expect(error?.kind == .invalidConfiguration)
        #expect(error?.message.contains(expected) == true, "\(error.map(String.init(describing:)) ?? "")")
        #expect(error?.message.contains("pw") != true)
    }

    @Test func environmentPrefersDatabaseURL() throws {
        let config = try PostgresConfiguration.fromEnvironment(["DATABASE_URL": "postgres://a@h:1/d", "PGHOST": "other"])
        #expect(config.host == "h" && config.database == "d")
        let fallback = try PostgresConfiguration.fromEnvironment(["PGHOST": "other"])
        #expect(fallback.parameters.isEmpty)  // libpq reads PG* itself
        let bad = #expect(throws: PostgresClientError.self) { try PostgresConfiguration.fromEnvironment(["DATABASE_URL": "nope"]) }
        #expect(bad?.message.hasPrefix("DATABASE_URL") == true)
    }

    @Test func refusedConnectionSaysSoWithoutThePassword() async throws {
        // Port 1 on loopback: nothing listens there.
        let config = try PostgresConfiguration(url: "postgres://app:s3cret@127.0.0.1:1/db?connect_timeout=3")
        let error = await captureError(PostgresClientError.self) { try await PostgresConnection.connect(config) }
        #expect(error?.kind == .connectionFailed)
        #expect(error?.message.contains("127.0.0.1") == true)
        #expect(error?.message.contains("s3cret") == false)
    }

    @Test func missingDatabaseIsAConnectionFailureNamingIt() async throws {
        try await TestDatabase.with { db in
            let config = db.configuration.with(database: "tk_no_such_database").with(user: "postgres", password: "not-printed")
            let error = await captureError(PostgresClientError.self) { try await PostgresConnection.connect(config) }
            #expect(error?.kind == .connectionFailed)
            #expect(error?.message.contains("tk_no_such_database") == true)
            #expect(error?.message.contains("not-printed") == false)
        }
    }
}
