/**
 * Credentials of a node and of its clients: TLS (server, and mutual TLS when
 * a CA is given), the bearer token a CLI presents, and a node's incoming
 * credentials (--credentials file, credentials.ts) and outgoing peer token.
 * Files are read once at start; a missing or unreadable file is a clear
 * INVALID_ARGUMENT at start-up. A node presents its TLS certificate and its
 * peer token (--peer-token-file; the shared token in the deprecated shared
 * mode) when it dials its peers.
 */
import fs from 'node:fs'
import * as grpc from '@grpc/grpc-js'
import { ShardsyncError } from '../../storage/errors'
import { Authenticator, readCredentialsFile, type CredentialsFile } from './credentials'

export interface SecurityConfig {
  /** CLI: the token it presents. Node: the deprecated shared token, only without credentialsFile. */
  authToken?: string
  /** Node: the JSON file of incoming credentials (credentials.ts). */
  credentialsFile?: string
  /** Node: the token it presents to its peers. */
  peerToken?: string
  tlsCert?: string
  tlsKey?: string
  tlsCa?: string
}

export interface Security {
  token?: string
  credentials?: CredentialsFile
  peerToken?: string
  cert?: Buffer
  key?: Buffer
  ca?: Buffer
}

export function loadSecurity (c: SecurityConfig): Security {
  const read = (file: string | undefined, flag: string): Buffer | undefined => {
    if (file === undefined || file === '') return undefined
    try {
      return fs.readFileSync(file)
    } catch {
      throw ShardsyncError.invalidArgument(`${flag}: cannot read ${file}`)
    }
  }
  const s: Security = {
    token: c.authToken === '' ? undefined : c.authToken,
    peerToken: c.peerToken === '' ? undefined : c.peerToken,
    credentials: c.credentialsFile === undefined || c.credentialsFile === '' ? undefined : readCredentialsFile(c.credentialsFile),
    cert: read(c.tlsCert, '--tls-cert'), key: read(c.tlsKey, '--tls-key'), ca: read(c.tlsCa, '--tls-ca') }
  if ((s.cert === undefined) !== (s.key === undefined)) throw ShardsyncError.invalidArgument('--tls-cert and --tls-key go together')
  return s
}

/** TLS when a certificate is given; a client certificate is required when a CA is given. */
export function serverCredentials (s: Security): grpc.ServerCredentials {
  if (s.cert === undefined || s.key === undefined) {
    if (s.ca !== undefined) throw ShardsyncError.invalidArgument('--tls-ca needs --tls-cert and --tls-key')
    return grpc.ServerCredentials.createInsecure()
  }
  return grpc.ServerCredentials.createSsl(s.ca ?? null, [{ cert_chain: s.cert, private_key: s.key }], s.ca !== undefined)
}

/** How this node (or a CLI) dials: TLS if it has a CA or a certificate. */
export function channelCredentials (s: Security): grpc.ChannelCredentials {
  if (s.ca === undefined && s.cert === undefined) return grpc.credentials.createInsecure()
  return grpc.credentials.createSsl(s.ca ?? null, s.key ?? null, s.cert ?? null)
}

/** What a CLI presents. */
export function authMetadata (s: Security): Record<string, string> {
  return s.token === undefined ? {} : { authorization: `Bearer ${s.token}` }
}

/** What a node presents when it dials a peer: its peer token, or the shared token without --credentials. */
export function peerAuthMetadata (s: Security): Record<string, string> {
  const token = s.peerToken ?? (s.credentials === undefined ? s.token : undefined)
  return token === undefined ? {} : { authorization: `Bearer ${token}` }
}

/** Who the node's callers are (incoming). */
export function authenticator (s: Security): Authenticator {
  return new Authenticator({ sharedToken: s.credentials === undefined ? s.token : undefined, credentials: s.credentials, mutualTls: s.ca !== undefined && s.cert !== undefined })
}
