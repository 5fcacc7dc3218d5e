import Foundation
import StarlingLoopbackClient
import Testing

/// The demo and operations pages driven in headless Chromium (through chromedriver) against a
/// live server with MovieLens-100K. A missing Chromium or chromedriver fails these tests.
@Suite("Web pages in headless Chromium", .serialized)
struct WebPageBrowserTests {
    /// Runs `body` with a fresh browser session; the session is deleted and chromedriver (with any
    /// browser left over) stopped however `body` ends.
    static func withBrowser(_ body: (WebDriverSession) async throws -> Void) async throws {
        let driver = try await ChromeDriver.start()
        defer { driver.stop() }
        let browser: WebDriverSession
        do { browser = try await driver.newSession() } catch {
            throw WebDriverError("\(error)\nchromedriver log: \(driver.logTail())")
        }
        do { try await body(browser) } catch {
            await browser.delete()
            throw error
        }
        await browser.delete()
    }

    /// Records every message the page's `#error` box ever shows (not just the last one).
    static let watchErrors = """
        window.__errors = [];
        const box = document.querySelector('#error');
        new MutationObserver(() => { if (box.textContent) window.__errors.push(box.textContent); })
          .observe(box, { childList: true, characterData: true, subtree: true });
        """

    /// The errors the page showed since `watchErrors`, and the box's current text and visibility.
    static func errors(_ browser: WebDriverSession) async throws -> [String] {
        let shown = try await browser.execute("return window.__errors") as? [String] ?? ["(the error watcher is gone)"]
        let box = try await browser.find("#error")
        let text = try await box.text()
        return shown + (text.isEmpty ? [] : ["now: \(text)"]) + (try await box.isDisplayed() ? ["the error box is shown"] : [])
    }

    /// Every URL the page loaded or fetched that is not on `origin` (the pages load nothing from elsewhere).
    static func foreignRequests(_ browser: WebDriverSession, origin: String) async throws -> [String] {
        let urls = try await browser.execute("return [location.href, ...performance.getEntriesByType('resource').map(e => e.name)]") as? [String]
        return (urls ?? ["(no resource timing)"]).filter { !$0.hasPrefix(origin + "/") }
    }

    /// ``waitUntil(_:timeout:interval:_:)`` whose timeout message also tells what the page's
    /// `#error` box says.
    static func wait<T>(_ browser: WebDriverSession, _ what: String, _ condition: () async throws -> T?) async throws -> T {
        do { return try await waitUntil(what, condition) } catch let error as WebDriverError {
            let shown = (try? await errors(browser)) ?? []
            throw shown.isEmpty ? error : WebDriverError("\(error); the page's #error box said: \(shown.joined(separator: " | "))")
        }
    }

    /// `[data-item, title shown, id shown]` of each `li` matching `css`.
    static let listScript = """
        return Array.from(document.querySelectorAll(arguments[0])).map(li => [
          li.dataset.item || "",
          (li.querySelector('.similar-link') || {}).textContent || "",
          (li.querySelector('.id') || {}).textContent || "",
        ]);
        """

    static func list(_ browser: WebDriverSession, _ css: String) async throws -> [[String]] {
        try await browser.execute(listScript, [css]) as? [[String]] ?? []
    }

    static func ids(_ r: LoopbackHTTPClient.Response) -> [String] {
        ((r.json?["items"] as? [[String: Any]]) ?? []).compactMap { $0["item"] as? String }
    }

    /// Runs `body` with a live MovieLens-100K server, stopped (and its folder removed) however `body` ends.
    static func withLiveServer(_ body: (LiveServer) async throws -> Void) async throws {
        let live = try await LiveServer().start()
        do { try await body(live) } catch {
            await live.stop()
            throw error
        }
        await live.stop()
    }

    @Test("demo page: a user's history and recommendations, Watch moves an item into the history, similar items")
    func demoPage() async throws { try await Self.withLiveServer(demoPage) }

    func demoPage(_ live: LiveServer) async throws {
        // MovieLens-100K's titles and genres by item id.
        let data = try LiveServer.movieLens.get()
        let titles = Dictionary(uniqueKeysWithValues: data.items.ids.enumerated().compactMap { k, id in data.itemMetadata[k].title.map { (id, $0) } })
        let categories = Dictionary(uniqueKeysWithValues: data.items.ids.enumerated().map { ($1, data.itemMetadata[$0].categories) })
        let user = "196"
        let apiHistory = try await live.call("GET", "/users/\(user)/history")
        let expectedHistory = try #require(apiHistory.json?["recent"] as? [[String: Any]]).compactMap { $0["item"] as? String }
        let interactions = try #require(apiHistory.json?["interactions"] as? Int)
        let expectedRecommendations = Self.ids(try await live.call("GET", "/recommend/\(user)?k=10"))
        try #require(expectedHistory.count == 20 && expectedRecommendations.count == 10)

        try await Self.withBrowser { browser in
            try await browser.navigate(to: "http://127.0.0.1:\(live.port)/")
            #expect(try await browser.execute("return document.title") as? String == "Starling — recommendations demo")
            _ = try await browser.execute(Self.watchErrors)

            // Type a MovieLens user id and load them.
            let input = try await browser.find("#user-input")
            try await input.type(user)
            try await browser.find("#load-user").click()
            let history = try await Self.wait(browser, "the history of user \(user)") {
                let rows = try await Self.list(browser, "#history li")
                return rows.isEmpty ? nil : rows
            }
            let recommendations = try await Self.wait(browser, "10 recommendations for user \(user)") {
                let rows = try await Self.list(browser, "#recommendations li")
                return rows.count == 10 ? rows : nil
            }
            // The history: the user's 20 latest items, newest first, as the API lists them, with
            // their MovieLens titles (and ids beside them).
            #expect(history.map { $0[0] } == expectedHistory)
            for row in history {
                #expect(row[1] == titles[row[0]] && !row[1].isEmpty, "history item \(row[0]): '\(row[1])'")
                #expect(row[2] == row[0])
            }
            #expect(try await browser.find("#interactions").text() == "\(interactions) interactions")
            #expect(try await browser.find("#current-user").text() == user)
            let version = try await browser.find("#model-version")
            #expect(try await version.text() == "model v1")
            #expect(try await version.attribute("data-version") == "1")
            // The recommendations: the API's ten, ranked, with titles, none already in the history.
            let recommended = recommendations.map { $0[0] }
            #expect(recommended == expectedRecommendations)
            #expect(Set(recommended).count == 10 && Set(recommended).isDisjoint(with: expectedHistory))
            for row in recommendations { #expect(row[1] == titles[row[0]] && !row[1].isEmpty, "recommended item \(row[0]): '\(row[1])'") }
            #expect(try await browser.findAll("#recommendations li .watch").count == 10)
            #expect(try await browser.find("#history-empty").isDisplayed() == false)
            #expect(try await browser.find("#recommendations-empty").isDisplayed() == false)

            // Watch the third recommendation: it moves to the top of the history and leaves the
            // recommendations at once (the event is applied before the POST is acknowledged).
            let watched = recommended[2]
            let button = try await browser.find("#recommendations li[data-item=\"\(watched)\"] .watch")
            #expect(try await button.text() == "Watch")
            try await button.click()
            let (newHistory, newRecommendations) = try await Self.wait(browser, "\(watched) at the top of the history and out of the recommendations") {
                let h = try await Self.list(browser, "#history li"), r = try await Self.list(browser, "#recommendations li")
                return h.first?[0] == watched && r.count == 10 && !r.contains { $0[0] == watched } ? (h, r) : nil
            }
            #expect(newHistory.first?[1] == titles[watched])
            #expect(Array(newHistory.map { $0[0] }.dropFirst()) == Array(expectedHistory.prefix(19)))
            #expect(try await browser.find("#interactions").text() == "\(interactions + 1) interactions")
            // Newly recommended items are marked fresh; the others are not.
            let fresh = try await browser.execute(
                "return Array.from(document.querySelectorAll('#recommendations li.fresh')).map(li => li.dataset.item)") as? [String] ?? []
            let entered = newRecommendations.map { $0[0] }.filter { !recommended.contains($0) }
            #expect(!entered.isEmpty && fresh == entered)
            // The API agrees: the click is stored and the item is first in the history.
            let after = try await live.call("GET", "/users/\(user)/history")
            #expect(((after.json?["recent"] as? [[String: Any]])?.first?["item"] as? String) == watched)
            #expect(after.json?["interactions"] as? Int == interactions + 1)

            // Click the title of the first recommendation: its similar items fill the side panel.
            let target = newRecommendations[0]
            try await browser.find("#recommendations li[data-item=\"\(target[0])\"] .similar-link").click()
            let similar = try await Self.wait(browser, "items similar to \(target[0])") {
                let rows = try await Self.list(browser, "#similar li")
                return rows.isEmpty ? nil : rows
            }
            let expectedSimilar = Self.ids(try await live.call("GET", "/items/\(target[0])/similar?k=8"))
            #expect(similar.map { $0[0] } == expectedSimilar && similar.count == 8)
            #expect(!similar.contains { $0[0] == target[0] })
            for row in similar { #expect(row[1] == titles[row[0]] && !row[1].isEmpty, "similar item \(row[0]): '\(row[1])'") }
            #expect(try await browser.find("#similar-title").text() == "Similar to “\(target[1])”")
            #expect(try await browser.find("#similar").attribute("data-item") == target[0])
            // Closing the panel empties it.
            try await browser.find("#similar-close").click()
            _ = try await Self.wait(browser, "the similar panel to close") { try await browser.findAll("#similar li").isEmpty ? true : nil }

            // A category filter: Enter reloads the recommendations, all of them in the category.
            let horror = Set(Self.ids(try await live.call("GET", "/recommend/\(user)?k=10&category=Horror")))
            try #require(horror.count == 10 && horror != Set(newRecommendations.map { $0[0] }))
            try await browser.find("#category-input").type("Horror\u{E007}")  // U+E007: the WebDriver Enter key
            let filtered = try await Self.wait(browser, "horror recommendations") {
                let rows = try await Self.list(browser, "#recommendations li")
                return Set(rows.map { $0[0] }) == horror ? rows : nil
            }
            for row in filtered { #expect(categories[row[0]]?.contains("Horror") == true, "\(row[0]) \(row[1]): \(categories[row[0]] ?? [])") }

            #expect(try await Self.errors(browser) == [])
            #expect(try await browser.severeLogEntries() == [])
            #expect(try await Self.foreignRequests(browser, origin: "http://127.0.0.1:\(live.port)") == [])
        }
    }

    @Test("operations page: versions with promote and roll back, an experiment's CTR chart and stop, live stats and latency")
    func operationsPage() async throws { try await Self.withLiveServer(operationsPage) }

    func operationsPage(_ live: LiveServer) async throws {
        // A second version (not promoted) and an experiment between the two, with traffic.
        let trained = try await live.call("POST", "/models/retrain", json: ["factors": 8, "iterations": 2])
        try #require(trained.status == 201 && trained.json?["version"] as? Int == 2 && trained.json?["active"] as? Int == 1)
        let started = try await live.call("POST", "/experiments", json: [
            "id": "browser-exp", "name": "16 vs 8 factors",
            "arms": [["name": "control", "version": 1, "share": 1], ["name": "small", "version": 2, "share": 1]],
        ])
        try #require(started.status == 201)
        for u in 1...120 {
            let r = try await live.call("GET", "/recommend/\(u)?k=5")
            try #require(r.status == 200)
            // Every third user clicks their first recommendation, every fifth their second too.
            let items = Self.ids(r)
            if u % 3 == 0 { _ = try await live.call("POST", "/events", json: ["user": "\(u)", "item": items[0], "type": "click"]) }
            if u % 5 == 0 { _ = try await live.call("POST", "/events", json: ["user": "\(u)", "item": items[1], "type": "click"]) }
        }
        let experiment = try await live.call("GET", "/experiments/browser-exp")
        let arms = try #require(experiment.json?["arms"] as? [[String: Any]])
        try #require(arms.count == 2)
        #expect(arms.reduce(0) { $0 + ($1["impressions"] as? Int ?? 0) } == 600)
        #expect(arms.reduce(0) { $0 + ($1["clicks"] as? Int ?? 0) } == 40 + 24)
        let models = try await live.call("GET", "/models")
        let modelKinds = try #require(models.json?["versions"] as? [[String: Any]]).reduce(into: [Int: String]()) {
            $0[$1["version"] as? Int ?? 0] = $1["model"] as? String
        }
        let active = { () async throws -> Int? in try await live.call("GET", "/models").json?["active"] as? Int }

        try await Self.withBrowser { browser in
            try await browser.navigate(to: "http://127.0.0.1:\(live.port)/ops")
            #expect(try await browser.execute("return document.title") as? String == "Starling — operations")
            _ = try await browser.execute(Self.watchErrors)

            // Versions: both, newest first, v1 active (its button disabled), v2 promotable.
            let rows = try await Self.wait(browser, "two model versions") {
                let rows = try await browser.findAll("#versions tr")
                return rows.count == 2 ? rows : nil
            }
            #expect(try await rows[0].attribute("data-version") == "2")
            #expect(try await rows[1].attribute("data-version") == "1")
            #expect(try await rows[1].attribute("class") == "active")
            #expect(try await rows[0].find("code").text() == modelKinds[2])
            #expect(try await rows[1].find("code").text() == modelKinds[1])
            let promoteV1 = try await rows[1].find(".promote"), promoteV2 = try await rows[0].find(".promote")
            #expect(try await promoteV1.text() == "Active")
            #expect(try await promoteV1.isEnabled() == false)
            #expect(try await promoteV2.text() == "Promote")
            #expect(try await promoteV2.isEnabled())
            #expect(try await rows[0].find(".meta").text().contains("factors 8"))

            // Promote v2: the API says it is active and the page marks it.
            try await promoteV2.click()
            _ = try await Self.wait(browser, "version 2 to be active") { try await active() == 2 ? true : nil }
            _ = try await Self.wait(browser, "the page to mark version 2 active") {
                try await browser.find("#versions tr[data-version=\"2\"]").attribute("class") == "active" ? true : nil
            }
            #expect(try await browser.find("#versions tr[data-version=\"1\"] .promote").isEnabled())
            // Roll back: v1 again.
            try await browser.find("#rollback").click()
            _ = try await Self.wait(browser, "the rollback to version 1") { try await active() == 1 ? true : nil }
            _ = try await Self.wait(browser, "the page to mark version 1 active") {
                try await browser.find("#versions tr[data-version=\"1\"]").attribute("class") == "active" ? true : nil
            }

            // The experiment: an arms table with the API's counts and a CTR chart with one bar per arm.
            let article = try await Self.wait(browser, "the experiment") { try await browser.findAll(".experiment[data-id=\"browser-exp\"]").first }
            #expect(try await article.find("h3").text() == "16 vs 8 factors")
            #expect(try await article.find(".badge").text() == "running")
            for arm in arms {
                let name = try #require(arm["name"] as? String)
                let cells = try await article.findAll("tr[data-arm=\"\(name)\"] td")
                try #require(cells.count == 9)
                #expect(try await cells[1].text() == "v\(arm["version"] as? Int ?? 0)")
                #expect(Int(try await cells[2].text().replacingOccurrences(of: ",", with: "")) == arm["impressions"] as? Int)
                #expect(Int(try await cells[3].text()) == arm["clicks"] as? Int)
            }
            let chart = try await article.find("svg.ctr-chart")
            let groups = try await chart.findAll("g.arm")
            #expect(groups.count == 2)
            var widths: [Double] = []
            for (group, arm) in zip(groups, arms) {
                #expect(try await group.attribute("data-arm") == arm["name"] as? String)
                let bar = try await group.find("rect")
                widths.append(Double(try await bar.attribute("width") ?? "") ?? -1)
                let tooltip = try await group.find("title").property("textContent") as? String
                #expect(tooltip?.hasPrefix("\(arm["name"] as? String ?? ""): CTR ") == true, "\(tooltip ?? "no tooltip")")
            }
            #expect(try await chart.findAll("rect.bar").count == 2)
            #expect(try await chart.findAll("rect.bar.control").count == 1)
            // Bar lengths are proportional to the arms' CTRs.
            let ctrs = arms.map { $0["ctr"] as? Double ?? 0 }
            #expect(widths.allSatisfy { $0 > 0 && $0 <= 300 }, "bar widths \(widths)")
            if widths.count == 2, ctrs[1] > 0 { #expect(abs(widths[0] / widths[1] - ctrs[0] / ctrs[1]) < 1e-3, "widths \(widths), CTRs \(ctrs)") }
            // Stop it: the API and the page say stopped; the button is gone.
            try await article.find(".stop").click()
            _ = try await Self.wait(browser, "the experiment to stop") {
                try await live.call("GET", "/experiments/browser-exp").json?["status"] as? String == "stopped" ? true : nil
            }
            _ = try await Self.wait(browser, "the page to show the experiment stopped") {
                let badge = try await browser.find(".experiment[data-id=\"browser-exp\"] .badge").text()
                let stopButtons = try await browser.findAll(".experiment[data-id=\"browser-exp\"] .stop")
                return badge == "stopped" && stopButtons.isEmpty ? true : nil
            }

            #expect(try await browser.find(".experiment[data-id=\"browser-exp\"] .guardrail").text().contains("looks at 1,000 impressions per arm"))

            // An experiment ended by its guardrail shows why. Its counters are fed to the book
            // directly (200 impressions per arm; 80 clicks against 5), then the guardrail looks.
            let guarded = try await live.call("POST", "/experiments", json: [
                "id": "guarded", "arms": [["name": "control", "version": 1], ["name": "small", "version": 2]], "guardrail": ["min_impressions": 100],
            ])
            try #require(guarded.status == 201, "\(guarded.text)")
            for (arm, clicks) in [(0, 80), (1, 5)] {
                let items = (0..<200).map { "g\(arm)-\($0)" }
                live.service.experiments.recordImpressions(experiment: "guarded", arm: arm, user: "guarded-\(arm)", items: items)
                for item in items.prefix(clicks) { live.service.experiments.recordOutcome(user: "guarded-\(arm)", item: item, isPurchase: false) }
            }
            let ended = try #require(try live.service.enforceGuardrails())
            let conclusion = try #require(ended.conclusion)
            #expect(conclusion.contains("'small'") && conclusion.contains("did worse"))
            _ = try await Self.wait(browser, "the page to show the guardrail's conclusion") {
                let texts = try await browser.findAll(".experiment[data-id=\"guarded\"] .conclusion")
                return try await texts.first?.text() == conclusion ? true : nil
            }

            // Live figures match /stats; every latency row has numbers.
            let stats = try await live.call("GET", "/stats").json ?? [:]
            let figures = try await Self.wait(browser, "the live figures") { () -> [String: String]? in
                let pairs = try await browser.execute(
                    "return Array.from(document.querySelectorAll('#figures .figure')).map(f => [f.querySelector('dt').textContent, f.querySelector('dd').textContent])")
                    as? [[String]] ?? []
                let figures = Dictionary(pairs.map { ($0[0], $0[1]) }, uniquingKeysWith: { a, _ in a })
                return figures["Active model"] == "v1" ? figures : nil
            }
            let number = { (s: String?) in Int((s ?? "").replacingOccurrences(of: ",", with: "")) }
            #expect(number(figures["Events"]) == stats["events"] as? Int && (stats["events"] as? Int ?? 0) >= 100_000)
            #expect(number(figures["Users"]) == stats["users"] as? Int)
            #expect(number(figures["Items"]) == 1682)
            #expect(Double(figures["Events/s (10 s)"] ?? "") != nil && Double(figures["Events/s (60 s)"] ?? "") != nil)
            let latency = try await Self.wait(browser, "latency rows") { () -> [[String]]? in
                let rows = try await browser.execute(
                    "return Array.from(document.querySelectorAll('#latency tr')).map(tr => Array.from(tr.cells).map(td => td.textContent))")
                    as? [[String]] ?? []
                return rows.contains { $0.first == "/recommend/{user}" } ? rows : nil
            }
            for row in latency {
                try #require(row.count == 6, "\(row)")
                #expect(["GET", "POST", "PUT", "PATCH", "DELETE"].contains(row[1]), "\(row)")
                #expect((number(row[2]) ?? 0) >= 1, "\(row)")
                #expect(row[3...].allSatisfy { (Double($0) ?? -1) >= 0 }, "\(row)")
            }
            let recommend = try #require(latency.first { $0[0] == "/recommend/{user}" && $0[1] == "GET" })
            #expect((number(recommend[2]) ?? 0) >= 120)
            #expect(try await browser.find("#latency-empty").isDisplayed() == false)

            #expect(try await Self.errors(browser) == [])
            #expect(try await browser.severeLogEntries() == [])
            #expect(try await Self.foreignRequests(browser, origin: "http://127.0.0.1:\(live.port)") == [])
        }
    }
}
