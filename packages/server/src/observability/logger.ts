import { pino, type Logger, type DestinationStream } from 'pino'

export type { Logger }

/** One structured logger per relay; children carry the component name. */
export const createLogger = (options: { level: string; region: string; destination?: DestinationStream }): Logger =>
  pino({ level: options.level, base: { region: options.region } }, options.destination ?? pino.destination({ fd: 1, sync: false }))
