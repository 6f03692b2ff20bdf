/**
 * Peers added at run time (AdminService.AddPeer), persisted so that they
 * survive restarts. Peers given by --peer flags are not stored here.
 */
import type { Database } from './database'
import * as keys from './keys'

export interface PeerRecord { id: string, address: string }

export class PeerStore {
  constructor (private readonly db: Database) {}

  async list (): Promise<PeerRecord[]> {
    const out: PeerRecord[] = []
    for await (const value of this.db.values(keys.prefixRange(keys.PEERS_PREFIX))) out.push(value as PeerRecord)
    return out
  }

  async put (peer: PeerRecord): Promise<void> {
    await this.db.put(keys.peerKey(peer.id), peer)
  }

  async remove (id: string): Promise<void> {
    await this.db.del(keys.peerKey(id))
  }
}
