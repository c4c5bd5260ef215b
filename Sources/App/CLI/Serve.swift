import CostMeter
import Foundation
import Hummingbird
import Logging
import NIOCore
import ServiceLifecycle
import TelemetryBootstrap
import UnixSignals

/// Starts the database (embedded or not), both listeners and the background services under one
/// `ServiceGroup`, and returns after a graceful shutdown.
///
/// `telemetry` (from `TelemetrySystem.bootstrap`) runs first and stops last; without it (tests), nothing
/// is exported and `/metrics` shows a registry of this call's own.
func serve(configuration: RunwayConfiguration, logger: Logger, telemetry: TelemetryService? = nil) async throws {
    let adminToken = try AdminToken.resolve(configuration: configuration, logger: logger)
    // A `runway migrate` beside it (the pod) may still be at work: its schema is waited for.
    let prepared = try await DatabaseBootstrap.prepare(configuration: configuration, schemaWait: .seconds(60), logger: logger)
    let lease: InstanceLease
    do {
        lease = try await InstanceLease.acquire(instance: configuration.telemetry.instance, endpoint: prepared.endpoint, logger: logger)
    } catch {
        await prepared.embedded?.release()
        throw error
    }
    let statementTimeout = Database.statementTimeout(for: .milliseconds(configuration.databaseTimeoutMilliseconds))
    let clients = DatabaseClients(
        configuration: { prepared.endpoint.clientConfiguration(maxConnections: $0, statementTimeout: statementTimeout) },
        maxConnections: configuration.databaseMaxConnections,
        backgroundLogger: logger
    )
    let services = RunwayServices(
        clients: clients,
        maxDocumentBytes: configuration.maxDocumentBytes,
        maxPageBytes: configuration.maxPageBytes,
        usageFlushInterval: .seconds(configuration.usageFlushSeconds),
        metrics: telemetry?.metrics ?? MetricsExposition(),
        logger: logger,
        meter: try makeCostMeter(configuration: configuration),
        databaseTimeout: .milliseconds(configuration.databaseTimeoutMilliseconds),
        keyLookupsPerSecond: configuration.keyLookupsPerSecond,
        metricsExemplars: configuration.metricsExemplars
    )
    let publicConnections = ConnectionCounters()
    let adminConnections = ConnectionCounters()
    services.metrics.addCollector { text in
        ConnectionCounters.writeMetrics(["public": publicConnections, "admin": adminConnections], into: &text)
    }

    let publicApp = Application(
        metered: buildPublicRouter(services: services, rateLimiter: RateLimiter()),
        by: services.meter,
        defaultPayer: .unauthenticated,
        configuration: .init(
            address: .hostname(RunwayConfiguration.bindAddress(configuration.host), port: configuration.port),
            serverName: "runway"
        ),
        maxBodyBytes: configuration.maxDocumentBytes,
        limits: configuration.connections,
        counters: publicConnections,
        onServerRunning: { channel in
            let url = listenerURL(channel)
            logger.notice("tenant API listening", metadata: ["address": "\(url)"])
            FileHandle.standardOutput.write(
                Data(
                    """
                    Runway is serving the tenant API on \(url)
                    Get an API key:   runway tenant create --name <your-name>   (scripts/runway tenant create … from a checkout)
                    Then call:        curl -H "Authorization: Bearer rw_…" \(url)/v1/collections

                    """.utf8
                )
            )
        },
        logger: logger
    )
    let adminApp = Application(
        metered: buildAdminRouter(services: services, adminToken: adminToken.value),
        by: services.meter,
        defaultPayer: .admin,
        configuration: .init(
            address: .hostname(RunwayConfiguration.bindAddress(configuration.adminHost), port: configuration.adminPort),
            serverName: "runway-admin"
        ),
        limits: configuration.connections,
        counters: adminConnections,
        onServerRunning: { channel in
            let url = listenerURL(channel)
            logger.notice("admin API listening", metadata: ["address": "\(url)/admin/v1", "token": "\(adminToken.source)"])
            FileHandle.standardOutput.write(
                Data("Admin API on \(url)/admin/v1 (bearer token from \(adminToken.source))\n".utf8)
            )
        },
        logger: logger
    )

    let stop = StopBudget(total: .seconds(configuration.shutdownTimeoutSeconds))
    // Services stop in reverse order: the listeners first (their requests within stop.requests),
    // then the usage flusher, the cost ledger (its last interval closed and written), the pool,
    // the instance lease, the embedded cluster, and last the log pipeline, which flushes what the
    // others logged; all of it within stop.total.
    // The exporters' batches and the flushes are overhead items of their own, not the requests'.
    var serviceList: [any Service] = telemetry.map { [MeteredService($0, as: .telemetry, meter: services.meter)] } ?? []
    if let cluster = prepared.embedded { serviceList.append(EmbeddedPostgresService(cluster: cluster)) }
    serviceList += [
        lease,
        clients,
        MeteredService(makeCostLedgerService(services: services, logger: logger), as: .flushes, meter: services.meter),
        MeteredService(
            UsageFlushService(recorder: services.usage, interval: .seconds(configuration.usageFlushSeconds)),
            as: .flushes,
            meter: services.meter
        ),
        DrainDeadline(base: adminApp, limit: stop.requests, clock: ContinuousClock()),
        DrainDeadline(base: publicApp, limit: stop.requests, clock: ContinuousClock()),
    ]
    var groupConfiguration = ServiceGroupConfiguration(
        services: serviceList,
        gracefulShutdownSignals: [.sigterm, .sigint],
        logger: logger
    )
    groupConfiguration.maximumGracefulShutdownDuration = stop.total
    groupConfiguration.maximumCancellationDuration = .seconds(5)
    do {
        let group = ServiceGroup(configuration: groupConfiguration)
        // The whole server on the meter's threads (its CPU outside tenants' executors is
        // overhead), so entering and leaving a tenant's executor never changes threads. With the
        // meter off too: its platform jobs read no clock, so `RUNWAY_COST_METER=0` differs from
        // the default by the metering alone, not by where requests run.
        try await withTaskExecutorPreference(services.meter.pool.platformExecutor) { try await group.run() }
    } catch {
        await prepared.embedded?.release()
        throw error
    }
}

/// The URL of the address a listener actually bound (an IPv6 address in brackets).
func listenerURL(_ channel: any Channel) -> String {
    guard let address = channel.localAddress, let ip = address.ipAddress, let port = address.port else {
        return "http://\(channel.localAddress.map { "\($0)" } ?? "?")"
    }
    if case .v6 = address { return "http://[\(ip)]:\(port)" }
    return "http://\(ip):\(port)"
}
