/** Node-only additions to @meridian/client. */
export { FilePersistence, type FilePersistenceOptions } from './file-persistence.js'
