import Foundation

/// Taobao UserBehavior (Alibaba Tianchi dataset 649): comma-separated, no header,
/// `user_id,item_id,category_id,behavior_type,timestamp`, with behaviours `pv` (page view),
/// `cart`, `fav` and `buy`, and Unix-second timestamps.
///
/// Behaviours become ``EventType/view``, ``EventType/cart``, ``EventType/favorite`` and
/// ``EventType/purchase`` events of value 1 (weight them with
/// ``Dataset/interactionMatrix(types:value:duplicates:)``); each item's category id is its one
/// category. Another behaviour name is a malformed line.
public enum TaobaoUserBehavior {
    /// Reads one UserBehavior CSV file.
    public static func load(_ url: URL, options: ReadOptions = ReadOptions(), name: String = "taobao-userbehavior") throws(DataError) -> Dataset {
        let text = try DelimitedText(contentsOf: url, encoding: options.encoding ?? .utf8)
        var b = DatasetBuilder(hasTimestamps: true)
        var report = ReadReport(path: url.path)
        b.events.reserveCapacity(text.approximateLineCount)
        let view = b.events.code(for: .view)!, cart = b.events.code(for: .cart)!
        let favorite = b.events.code(for: .favorite)!, purchase = b.events.code(for: .purchase)!
        var categoryOfItem: [Int] = []
        try text.forEachLine(.bytes([44], mergeRuns: false), options: options, report: &report) { line throws(DataError) in
            guard line.count == 5 else { throw line.malformed("expected 5 fields (user_id,item_id,category_id,behavior_type,timestamp), found \(line.count)") }
            let u = try IdInterner.intKey(line, 0, name: "user_id")
            let i = try IdInterner.intKey(line, 1, name: "item_id")
            let category = try line.int(2, name: "category_id")
            let code: UInt8
            if line.field(3, equals: "pv") { code = view } else if line.field(3, equals: "buy") { code = purchase }
            else if line.field(3, equals: "cart") { code = cart } else if line.field(3, equals: "fav") { code = favorite }
            else { throw line.malformed("field 4 (behavior_type) is '\(try line.string(3))', not pv, cart, fav or buy") }
            let t = try line.timestamp(4, name: "timestamp")
            let item = Int(b.item(i))
            // The first category seen for an item; strings are made once per item, below.
            if item == categoryOfItem.count { categoryOfItem.append(category) }
            b.events.append(user: b.user(u), item: Int32(item), typeCode: code, value: 1, timestamp: t)
        }
        for (item, category) in categoryOfItem.enumerated() { b.itemMetadata[item].categories = [String(category)] }
        b.reports.append(report)
        return b.build(name: name, order: options.idOrder)
    }
}
