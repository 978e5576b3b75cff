/**
 * A WebSocket client spoken by hand over a TCP socket. The `ws` client (like
 * browsers) parses the URL with WHATWG rules, which rewrite `..`, `.` and
 * `%2e%2e` segments before anything is sent; hostile paths and malformed
 * frames need the bytes to reach the relay exactly as written.
 */
import net from 'node:net'
import { randomBytes } from 'node:crypto'

export interface RawFrame {
  fin: boolean
  opcode: number
  payload: Buffer
}

export interface RawClose {
  code: number
  reason: string
  /** Data frames (text or binary) the relay sent before it closed. */
  dataFrames: number
}

export interface RawSession {
  /** Resolves with the HTTP status line once the upgrade answer arrived. */
  upgraded: Promise<string>
  /** Resolves on the relay's close frame, or when the TCP connection ends without one (code 1006). */
  closed: Promise<RawClose>
  frames: RawFrame[]
  /** Writes one client frame; masked unless `mask: false` (which RFC 6455 forbids). */
  sendFrame(opcode: number, payload: Uint8Array, options?: { fin?: boolean; mask?: boolean; rsv?: number; declaredLength?: bigint }): void
  sendRaw(bytes: Uint8Array): void
  destroy(): void
}

const ABNORMAL = 1006

const encodeLength = (length: bigint, maskBit: number): Buffer => {
  if (length < 126n) return Buffer.from([maskBit | Number(length)])
  if (length < 65536n) {
    const b = Buffer.alloc(3)
    b[0] = maskBit | 126
    b.writeUInt16BE(Number(length), 1)
    return b
  }
  const b = Buffer.alloc(9)
  b[0] = maskBit | 127
  b.writeBigUInt64BE(length, 1)
  return b
}

export const openRawSession = (port: number, path: string): RawSession => {
  const socket = net.connect(port, '127.0.0.1')
  const frames: RawFrame[] = []
  let buffer = Buffer.alloc(0)
  let headerDone = false
  let resolveUpgraded!: (status: string) => void
  let resolveClosed!: (close: RawClose) => void
  const upgraded = new Promise<string>((resolve) => (resolveUpgraded = resolve))
  let settled = false
  const closed = new Promise<RawClose>((resolve) => (resolveClosed = resolve))
  const finish = (close: RawClose): void => {
    if (settled) return
    settled = true
    resolveClosed(close)
    socket.destroy()
  }
  const dataFrames = (): number => frames.filter((f) => f.opcode === 1 || f.opcode === 2).length

  const parseFrames = (): void => {
    while (buffer.length >= 2) {
      const b0 = buffer[0]!
      const b1 = buffer[1]!
      let offset = 2
      let length = b1 & 0x7f
      if (length === 126) {
        if (buffer.length < 4) return
        length = buffer.readUInt16BE(2)
        offset = 4
      } else if (length === 127) {
        if (buffer.length < 10) return
        length = Number(buffer.readBigUInt64BE(2))
        offset = 10
      }
      if (buffer.length < offset + length) return
      const frame = { fin: (b0 & 0x80) !== 0, opcode: b0 & 0x0f, payload: buffer.subarray(offset, offset + length) }
      buffer = buffer.subarray(offset + length)
      frames.push(frame)
      if (frame.opcode === 8) {
        const code = frame.payload.length >= 2 ? frame.payload.readUInt16BE(0) : 1005
        finish({ code, reason: frame.payload.subarray(2).toString('utf8'), dataFrames: dataFrames() })
        return
      }
    }
  }

  socket.on('data', (chunk: Buffer) => {
    buffer = Buffer.concat([buffer, chunk])
    if (!headerDone) {
      const end = buffer.indexOf('\r\n\r\n')
      if (end < 0) return
      const status = buffer.subarray(0, buffer.indexOf('\r\n')).toString('latin1')
      buffer = buffer.subarray(end + 4)
      headerDone = true
      resolveUpgraded(status)
      if (!status.includes(' 101 ')) {
        finish({ code: ABNORMAL, reason: status, dataFrames: 0 })
        return
      }
    }
    parseFrames()
  })
  socket.on('error', () => finish({ code: ABNORMAL, reason: 'socket error', dataFrames: dataFrames() }))
  socket.on('close', () => {
    if (!headerDone) resolveUpgraded('connection closed before an HTTP answer')
    finish({ code: ABNORMAL, reason: 'connection closed without a close frame', dataFrames: dataFrames() })
  })

  const key = randomBytes(16).toString('base64')
  socket.write(
    `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
      `Sec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
  )

  return {
    upgraded,
    closed,
    frames,
    sendFrame(opcode, payload, options = {}) {
      const mask = options.mask ?? true
      const head = Buffer.from([((options.fin ?? true) ? 0x80 : 0) | ((options.rsv ?? 0) << 4) | opcode])
      const length = encodeLength(options.declaredLength ?? BigInt(payload.length), mask ? 0x80 : 0)
      const key = mask ? randomBytes(4) : Buffer.alloc(0)
      const body = Buffer.from(payload)
      if (mask) for (let i = 0; i < body.length; i++) body[i]! ^= key[i % 4]!
      if (!socket.destroyed) socket.write(Buffer.concat([head, length, key, body]))
    },
    sendRaw(bytes) {
      if (!socket.destroyed) socket.write(bytes)
    },
    destroy: () => finish({ code: ABNORMAL, reason: 'destroyed by the test', dataFrames: dataFrames() }),
  }
}
