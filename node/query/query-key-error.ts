/** The error of a matching key that is malformed or names an attribute peerpacs does not match on. */
import { PeerpacsError } from '../../protocol/errors.ts'

/** Mapped once: a 400 over QIDO-RS (qido.ts), 0xC000 with an Error Comment over C-FIND (find.ts). */
export class QueryKeyError extends PeerpacsError {
  static readonly code = 'QUERY_KEY'
  constructor (message: string) { super(QueryKeyError.code, message) }
}
