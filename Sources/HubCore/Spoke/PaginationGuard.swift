/// Stops reads whose pagination never ends: a next page that was already read in the same
/// read (a cursor, a page link or a page's content coming back), or more pages than allowed.
///
/// A read is a chain of pages: it starts from no cursor (or from a cursor the guard does not
/// know, such as the previous run's final one) and continues from each page's `next`. Each
/// chain keeps the marks of its pages — the cursor or link of each next page, or a digest of a
/// page's content where the adapter computes the next position itself (page numbers, offsets).
/// A mark seen twice means the API sends the read in a circle.
///
/// ```swift
/// let guard_ = PaginationGuard(maxPages: 10_000)
/// try guard_.advance(from: nil, to: page.next?.value, marks: [page.next!.value])  // throws on a repeat
/// ```
public final class PaginationGuard: Sendable {
    /// Pages one read may have, by default.
    public static let defaultMaxPages = 10_000

    public let maxPages: Int
    private struct Chain {
        var pages = 0
        var marks: Set<String> = []
    }
    private let chains = Locked<[String: Chain]>([:])

    public init(maxPages: Int = PaginationGuard.defaultMaxPages) {
        self.maxPages = max(1, maxPages)
    }

    /// Why a read was stopped.
    public enum Stop: Error, Sendable, Equatable {
        /// The page's mark was seen before in this read, `page` pages in.
        case repeated(page: Int)
        /// The read reached the page limit without ending.
        case tooManyPages(Int)
    }

    /// Records a page read after `cursor` whose successor is `next` (nil: the read ended).
    /// - Parameters:
    ///   - startMarks: marks of the page read after `cursor`, when the read starts here (the
    ///     cursor's own link or token, so that a next page pointing back to it is caught).
    ///   - marks: what identifies the page just read or its successor; none may repeat.
    ///   - limit: the page limit of this read, when not ``maxPages``.
    /// - Throws: ``Stop`` when a mark repeats or the read passes its page limit.
    public func advance(from cursor: String?, to next: String?, startMarks: [String] = [], marks: [String],
                        limit: Int? = nil) throws(Stop) {
        let maxPages = limit.map { max(1, $0) } ?? maxPages
        try chains.withLock { (chains: inout [String: Chain]) throws(Stop) in
            var chain: Chain
            if let cursor, let known = chains.removeValue(forKey: cursor) {
                chain = known
            } else {
                chain = Chain(marks: Set(startMarks))
            }
            chain.pages += 1
            guard let next else { return }
            for mark in marks {
                guard chain.marks.insert(mark).inserted else { throw .repeated(page: chain.pages) }
            }
            guard chain.pages < maxPages else { throw .tooManyPages(maxPages) }
            chains[next] = chain
        }
    }
}
