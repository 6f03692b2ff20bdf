/**
 * Throw-away test CAs and certificates made with the openssl CLI, for the
 * mTLS tests in test/security/. A certificate may carry a URI SAN
 * shardsync://ID, which names its identity (node/rpc/credentials.ts).
 */
import { execFileSync } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'

export interface CertFiles { cert: string, key: string }

function openssl (dir: string, args: string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] })
}

export function makeCa (dir: string, name: string): string {
  openssl(dir, ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.crt`, '-days', '2',
    '-subj', `/CN=${name} throw-away test CA`, '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign'])
  return path.join(dir, `${name}.crt`)
}

/** A certificate for 127.0.0.1/localhost with CN=name, and URI:shardsync://uriIdentity if given. */
export function makeCert (dir: string, ca: string, name: string, uriIdentity?: string): CertFiles {
  openssl(dir, ['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${name}`])
  const uri = uriIdentity !== undefined ? `,URI:shardsync://${uriIdentity}` : ''
  fs.writeFileSync(path.join(dir, `${name}.ext`), `subjectAltName=IP:127.0.0.1,DNS:localhost${uri}\nbasicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyAgreement\nextendedKeyUsage=serverAuth,clientAuth\n`)
  openssl(dir, ['x509', '-req', '-in', `${name}.csr`, '-CA', `${ca}.crt`, '-CAkey', `${ca}.key`, '-CAcreateserial', '-out', `${name}.crt`, '-days', '2', '-extfile', `${name}.ext`])
  return { cert: path.join(dir, `${name}.crt`), key: path.join(dir, `${name}.key`) }
}
