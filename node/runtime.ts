/** The platform choices the daemon and CLI make once: native crypto for bulk work, Web Crypto randomness. */
import { platformRandom } from '../protocol/random.ts'
import { nativeProvider } from './crypto/native-provider.ts'

export const provider = nativeProvider
export const random = platformRandom
