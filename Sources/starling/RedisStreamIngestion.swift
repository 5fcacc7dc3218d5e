import Foundation
import StarlingRedis
import StarlingServe
import StarlingStream
import Synchronization

/// `serve --redis-stream KEY`: a ``RedisStreamRunner`` on a thread of its own feeding the stream's
/// entries into ``RecommendationService/ingest(_:)``. Entries keep their event ids (the stream
/// entry id when the producer gave none), so an entry delivered again after a crash or a failed
/// batch is not stored twice. Events the service refuses (an invalid field, an unknown item) go to
/// the dead-letter stream with the service's message; any other failure (the disk, Redis) is
/// logged and the batch retried, never ending the server.
final class RedisStreamIngestion: Sendable {
    let runner: RedisStreamRunner

    init(service: RecommendationService, host: String, port: Int, key: String, group: String, consumer: String) throws {
        let consumer = try RedisStreamConsumer(configuration: .init(host: host, port: port, key: key, group: group, consumer: consumer,
                                                                    fromBeginning: true))
        let label = "redis stream \(key) (group \(group), consumer \(consumer.configuration.consumer))"
        runner = RedisStreamRunner(consumer: consumer, handler: { entries in try Self.ingest(entries, into: service) }, onEvent: { event in
            switch event {
            case let .batch(batch):
                for dead in batch.deadLetters { Console.status("\(label): \(dead); copied to \(consumer.configuration.deadLetterKey)") }
            case let .failed(description, retryIn):
                Console.status("\(label): \(description); retrying in \(retryIn)")
            }
        })
        Console.status("consuming \(label) from Redis at \(host):\(port)")
    }

    /// Ingests `entries` as one batch; if the service refuses the batch for one event's sake, the
    /// events go in one at a time and the refused ones are returned (with the service's reason).
    static func ingest(_ entries: [RedisStreamEntry], into service: RecommendationService) throws -> [RedisDeadLetter] {
        let inputs = entries.map { entry in
            let e = entry.event
            return EventInput(user: e.user, item: e.item, type: e.type.rawValue, value: e.value, timestamp: e.timestamp, eventId: e.eventId)
        }
        do {
            _ = try service.ingest(inputs)
            return []
        } catch let error as ServiceError where error.status == 400 || error.status == 404 {
            var refused: [RedisDeadLetter] = []
            for (entry, input) in zip(entries, inputs) {
                do { _ = try service.ingest([input]) } catch let error as ServiceError where error.status == 400 || error.status == 404 {
                    refused.append(deadLetter(entry.id, error.description))
                }
            }
            return refused
        }
    }

    /// A dead letter from the service's message for a one-event batch (`event 0: field 'type' …`).
    private static func deadLetter(_ id: String, _ message: String) -> RedisDeadLetter {
        var reason = Substring(message)
        if reason.hasPrefix("event 0: ") { reason = reason.dropFirst("event 0: ".count) }
        var field: String?
        if reason.hasPrefix("field '"), let end = reason.dropFirst(7).firstIndex(of: "'") {
            field = String(reason[reason.index(reason.startIndex, offsetBy: 7)..<end])
        }
        return RedisDeadLetter(entryId: id, field: field, reason: String(reason))
    }

    func stop() { runner.stop() }

    /// The service's feature store in Redis, with its failures logged at most every 10 s.
    static func featureStore(definitions: [FeatureDefinition], host: String, port: Int, prefix: String) throws -> RedisFeatureStore {
        let last = Mutex<(at: ContinuousClock.Instant, suppressed: Int)?>(nil)
        let store = try RedisFeatureStore(definitions: definitions, host: host, port: port, prefix: prefix, onError: { error in
            let line: String? = last.withLock { state in
                if let s = state, ContinuousClock.now - s.at < .seconds(10) {
                    state = (s.at, s.suppressed + 1)
                    return nil
                }
                let suppressed = state?.suppressed ?? 0
                state = (ContinuousClock.now, 0)
                return "streaming features in Redis: \(error)" + (suppressed > 0 ? " (and \(suppressed) more failures in the last 10 s)" : "")
            }
            if let line { Console.status(line) }
        })
        do { try store.ping() } catch {
            Console.status("warning: \(error); feature updates and reads fail (and are counted) until Redis answers")
        }
        return store
    }
}
