/**
 * XML in and out of the S3 front door, with fast-xml-parser: the error
 * document, answers built from plain objects, and the two request bodies
 * that S3 takes as XML (DeleteObjects, CompleteMultipartUpload). Bodies are
 * read whole but bounded (MAX_XML_BYTES) by the caller.
 */
import { XMLBuilder, XMLParser } from 'fast-xml-parser'
import { S3Error } from './errors'

export const S3_XMLNS = 'http://s3.amazonaws.com/doc/2006-03-01/'
/** Largest XML request body read (DeleteObjects of 1,000 long keys fits). */
export const MAX_XML_BYTES = 2 * 1024 * 1024

const builder = new XMLBuilder({ ignoreAttributes: false, suppressEmptyNode: false, attributeNamePrefix: '@_' })
const parser = new XMLParser({ parseTagValue: false, trimValues: false, ignoreAttributes: true, processEntities: true, htmlEntities: true, isArray: (name) => name === 'Object' || name === 'Part' })

/** An answer document: `<?xml ...?><root xmlns=S3>...body...</root>`. */
export function xmlDocument (root: string, body: Record<string, unknown>): string {
  return builder.build({ '?xml': { '@_version': '1.0', '@_encoding': 'UTF-8' }, [root]: { '@_xmlns': S3_XMLNS, ...body } }) as string
}

export function errorDocument (code: string, message: string, resource: string, requestId: string, extra: Record<string, string> = {}): string {
  return builder.build({ '?xml': { '@_version': '1.0', '@_encoding': 'UTF-8' }, Error: { Code: code, Message: message, ...extra, Resource: resource, RequestId: requestId } }) as string
}

function parse (text: string): Record<string, unknown> {
  try {
    return parser.parse(text, true) as Record<string, unknown>
  } catch {
    throw new S3Error('MalformedXML', 'the XML you provided was not well-formed')
  }
}

function malformed (): S3Error {
  return new S3Error('MalformedXML', 'the XML you provided was not well-formed or did not validate against the published schema')
}

/** DeleteObjects body: the keys and Quiet. */
export function parseDeleteRequest (text: string): { keys: string[], quiet: boolean } {
  const doc = parse(text).Delete as Record<string, unknown> | undefined
  if (typeof doc !== 'object' || doc === null) throw malformed()
  const objects = (doc.Object ?? []) as Array<Record<string, unknown>>
  if (!Array.isArray(objects) || objects.length === 0) throw malformed()
  if (objects.length > 1000) throw new S3Error('MalformedXML', 'at most 1000 keys per DeleteObjects request')
  const keys = objects.map(o => {
    if (typeof o !== 'object' || o === null || typeof o.Key !== 'string') throw malformed()
    return o.Key
  })
  return { keys, quiet: String(doc.Quiet ?? '').trim().toLowerCase() === 'true' }
}

/** CompleteMultipartUpload body: parts as listed (order checked by the caller). */
export function parseCompleteRequest (text: string): Array<{ partNumber: number, etag: string }> {
  const doc = parse(text).CompleteMultipartUpload as Record<string, unknown> | undefined
  if (typeof doc !== 'object' || doc === null) throw malformed()
  const parts = (doc.Part ?? []) as Array<Record<string, unknown>>
  if (!Array.isArray(parts) || parts.length === 0) throw malformed()
  if (parts.length > 10000) throw malformed()
  return parts.map(p => {
    if (typeof p !== 'object' || p === null) throw malformed()
    const n = Number(String(p.PartNumber ?? '').trim())
    if (!Number.isInteger(n) || n < 1 || n > 10000 || typeof p.ETag !== 'string') throw new S3Error('InvalidPart', 'each part needs a PartNumber from 1 to 10000 and an ETag')
    return { partNumber: n, etag: p.ETag.trim().replace(/^"|"$/g, '').replace(/^&quot;|&quot;$/g, '') }
  })
}
