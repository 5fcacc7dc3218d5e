import Hummingbird

extension APIServer {
    func addPages(_ router: Router<BasicRequestContext>) {
        on(router, .get, "/") { _, _ in Self.html(WebPages.demo) }
        on(router, .get, "/ops") { _, _ in Self.html(WebPages.operations) }
    }

    static func html(_ page: String) -> Response {
        Response(status: .ok, headers: [.contentType: "text/html; charset=utf-8"], body: ResponseBody(byteBuffer: ByteBuffer(string: page)))
    }
}
