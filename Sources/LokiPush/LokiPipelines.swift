import AsyncHTTPClient
import ServiceLifecycle
import Telemetry

/// The Loki side of the log pipeline: one ``Telemetry/BatchingPipeline`` per Loki tenant
/// (`X-Scope-OrgID`), each with its own share of the buffer and its own retry state, so one
/// tenant being rate-limited or refused never delays or drops another's lines.
///
/// A record goes to the Loki tenant configured for the value of its routing metadata (the Runway
/// tenant id, by default), or to the default Loki tenant.
package final class LokiPipelines<C: Clock>: Service, Sendable where C.Duration == Duration {
    package struct Configuration: Sendable {
        /// Loki's base URL (`LOKI_URL`).
        package var baseURL: String
        /// `X-Scope-OrgID` of every line not routed elsewhere (`LOKI_TENANT`); nil sends none.
        package var defaultTenant: String?
        /// Loki tenant by value of the ``routingKey`` metadata (`LOKI_TENANT_MAP`).
        package var tenantRoutes: [String: String] = [:]
        /// The metadata whose value picks the Loki tenant. Default `tenant`.
        package var routingKey = "tenant"
        /// Batching of each Loki tenant's pipeline; ``BatchingConfiguration/maximumBufferBytes``
        /// is the total, shared equally among the Loki tenants.
        package var batching = BatchingConfiguration()
        /// Longest wait for one push. Default 10 s.
        package var timeout: Duration = .seconds(10)

        package init(baseURL: String, defaultTenant: String? = nil) {
            self.baseURL = baseURL
            self.defaultTenant = defaultTenant
            batching.name = "logs"
        }

        /// The Loki tenants, the default first, each once.
        var lokiTenants: [String?] {
            var tenants: [String?] = [defaultTenant]
            for tenant in Set(tenantRoutes.values).sorted() where tenant != defaultTenant { tenants.append(tenant) }
            return tenants
        }
    }

    package typealias Pipeline = BatchingPipeline<LokiExporter, C>

    /// Each Loki tenant's pipeline, the default first.
    package let pipelines: [(tenant: String?, pipeline: Pipeline)]
    /// The default Loki tenant's pipeline (the first).
    @usableFromInline let defaultPipeline: Pipeline
    @usableFromInline let routes: [String: Pipeline]
    @usableFromInline let routingKey: String

    package init(configuration: Configuration, client: HTTPClient = .shared, clock: C) {
        let tenants = configuration.lokiTenants
        var batching = configuration.batching
        batching.maximumBufferBytes = max(1, configuration.batching.maximumBufferBytes / tenants.count)
        batching.maximumBatchBytes = min(batching.maximumBatchBytes, batching.maximumBufferBytes)
        var pipelines: [(tenant: String?, pipeline: Pipeline)] = []
        for tenant in tenants {
            var exporterConfiguration = LokiExporter.Configuration(baseURL: configuration.baseURL, tenant: tenant)
            exporterConfiguration.timeout = configuration.timeout
            let exporter = LokiExporter(client: client, configuration: exporterConfiguration)
            pipelines.append((tenant, BatchingPipeline(exporter: exporter, configuration: batching, clock: clock)))
        }
        self.pipelines = pipelines
        self.defaultPipeline = pipelines[0].pipeline
        let byTenant = Dictionary(uniqueKeysWithValues: pipelines.map { ($0.tenant ?? "", $0.pipeline) })
        self.routes = configuration.tenantRoutes.compactMapValues { byTenant[$0] }
        self.routingKey = configuration.routingKey
    }

    /// Adds a record to its Loki tenant's pipeline; never blocks and never waits on I/O.
    /// Inlinable, so that the caller runs it specialised for its clock.
    @inlinable
    package func enqueue(_ record: LokiRecord) {
        pipeline(for: record).enqueue(record)
    }

    @inlinable
    func pipeline(for record: LokiRecord) -> Pipeline {
        if !routes.isEmpty, let value = record.metadataValue(routingKey),
            let pipeline = routes[value]
        {
            return pipeline
        }
        return defaultPipeline
    }

    /// Counters of all Loki tenants together.
    package var snapshot: PipelineCounters.Snapshot {
        pipelines.reduce(into: PipelineCounters.Snapshot()) { total, next in
            let snapshot = next.pipeline.counters.snapshot
            total.enqueued += snapshot.enqueued
            total.sent += snapshot.sent
            total.buffered += snapshot.buffered
            total.dropped.merge(snapshot.dropped, uniquingKeysWith: +)
        }
    }

    /// Runs every Loki tenant's pipeline until graceful shutdown, when each makes its final flush.
    package func run() async {
        await withDiscardingTaskGroup { group in
            for (_, pipeline) in pipelines {
                group.addTask { await pipeline.run() }
            }
        }
    }
}

extension LokiPipelines where C == ContinuousClock {
    package convenience init(configuration: Configuration, client: HTTPClient = .shared) {
        self.init(configuration: configuration, client: client, clock: ContinuousClock())
    }
}
