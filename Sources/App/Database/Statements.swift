import Foundation
import NIOCore
import PostgresNIO

/// The request path's statements, prepared once per connection (PostgresNIO prepares each under
/// its `name` on a connection's first use): PostgreSQL parses and plans them once, not on every
/// request. Each names itself with a constant: the protocol's default name is made from the type
/// by reflection on every execution.
enum Statements {
    struct Begin: PostgresPreparedStatement {
        static let name = "runway.begin"
        typealias Row = ()
        static let sql = "BEGIN"
        func makeBindings() -> PostgresBindings { PostgresBindings() }
        func decodeRow(_ row: PostgresRow) throws {}
    }

    struct Commit: PostgresPreparedStatement {
        static let name = "runway.commit"
        typealias Row = ()
        static let sql = "COMMIT"
        func makeBindings() -> PostgresBindings { PostgresBindings() }
        func decodeRow(_ row: PostgresRow) throws {}
    }

    struct Rollback: PostgresPreparedStatement {
        static let name = "runway.rollback"
        typealias Row = ()
        static let sql = "ROLLBACK"
        func makeBindings() -> PostgresBindings { PostgresBindings() }
        func decodeRow(_ row: PostgresRow) throws {}
    }

    /// Sets the tenant for the transaction after checking the scope's key, and the moment past
    /// which its COMMIT is refused (``Database/commitDeadline()``); false when the key is no
    /// longer valid.
    struct Enter: PostgresPreparedStatement {
        static let name = "runway.enter"
        typealias Row = Bool
        static let sql = "SELECT runway_enter($1, $2, $3) FROM set_config('runway.deadline', $4::text, true)"
        let scope: TenantScope
        let deadline: Int64
        func makeBindings() throws -> PostgresBindings {
            var bindings = try scope.bindings()
            bindings.append(deadline)
            return bindings
        }
        func decodeRow(_ row: PostgresRow) throws -> Bool { try row.decode(Bool.self) }
    }

    /// One document, in the same round trip as entering the tenant.
    struct GetDocument: PostgresPreparedStatement {
        static let name = "runway.get_document"
        typealias Row = (Int16, Int64?, ByteBuffer?)
        static let sql = "SELECT outcome, doc_version, doc_body FROM runway_get_document($1, $2, $3, $4, $5)"
        let scope: TenantScope
        let collection: String
        let id: String
        func makeBindings() throws -> PostgresBindings {
            var bindings = try scope.bindings()
            bindings.append(collection)
            bindings.append(id)
            return bindings
        }
        func decodeRow(_ row: PostgresRow) throws -> Row { try row.decode(Row.self) }
    }

    /// A document write, in the same round trip as entering the tenant, committed only before
    /// `deadline` (``Database/commitDeadline()``).
    struct PutDocument: PostgresPreparedStatement {
        static let name = "runway.put_document"
        typealias Row = (Int16, Int64?, Bool?)
        static let sql = """
            SELECT p.outcome, p.doc_version, p.doc_created
            FROM set_config('runway.deadline', $9::text, true), runway_put_document($1, $2, $3, $4, $5, $6, $7, $8) p
            """
        let scope: TenantScope
        let collection: String
        let id: String
        let body: JSONBBytes
        let mode: Int16
        let versions: [Int64]?
        let deadline: Int64
        func makeBindings() throws -> PostgresBindings {
            var bindings = try scope.bindings()
            bindings.append(collection)
            bindings.append(id)
            bindings.append(body)
            bindings.append(mode)
            bindings.append(versions)
            bindings.append(deadline)
            return bindings
        }
        func decodeRow(_ row: PostgresRow) throws -> Row { try row.decode(Row.self) }
    }
}

extension TenantScope {
    /// `$1, $2, $3` of the tenant functions: tenant, key id, key hash (the last two NULL when trusted).
    fileprivate func bindings() throws -> PostgresBindings {
        var bindings = PostgresBindings(capacity: 8)
        bindings.append(tenant)
        bindings.append(keyID)
        bindings.append(secretHash.map { ByteBuffer(bytes: $0) })
        return bindings
    }
}
