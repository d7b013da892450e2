import ChronosConfig

extension PostgresEventStore.Endpoint {
    /// The server, user, database, password (``PersistenceConfiguration/resolvedPostgresqlPassword()``)
    /// and timeouts (`postgresql_connect_timeout_ms`, `postgresql_query_timeout_ms`) of `configuration`.
    public init(_ configuration: PersistenceConfiguration) throws {
        self.init(
            host: configuration.postgresqlHost, port: configuration.postgresqlPort, user: configuration.postgresqlUser,
            password: try configuration.resolvedPostgresqlPassword(), database: configuration.postgresqlDatabase,
            connectTimeoutMilliseconds: configuration.postgresqlConnectTimeoutMilliseconds,
            queryTimeoutMilliseconds: configuration.postgresqlQueryTimeoutMilliseconds)
    }
}
