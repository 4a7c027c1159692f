// What a sink needs of object storage (S3 and compatible servers), so that sinks that land files in a bucket (the file
// sink's `s3://` target, Iceberg tables) share one client and tests can run the same code against a local directory.

/** One stored object as a listing names it. */
export interface ObjectInfo {
  /** The key inside the store's bucket, without the store's prefix. */
  readonly key: string;
  readonly size: number;
}

/** Options of one upload. */
export interface PutOptions {
  readonly contentType?: string;
}

/**
 * A bucket (and key prefix) of an object store. Every write is atomic: a reader sees the whole object or none
 * (S3 guarantees this for a single PUT and for a completed multipart upload; a directory store writes a temp file and
 * renames it). Errors are thrown with the key and the server's answer in the message; the sink runner retries.
 */
export interface ObjectStore {
  /** Where an object lives, for logs and for table metadata: `s3://bucket/prefix/key` or `file:///dir/key`. */
  url(key: string): string;
  /** Writes the object; bodies above the store's multipart threshold are uploaded in parts. */
  put(key: string, body: Uint8Array, options?: PutOptions): Promise<void>;
  /**
   * Writes the object from a local file without reading it whole into memory (S3: one PUT streamed from the file,
   * or above the multipart threshold one part read at a time; a directory store copies it). The file must not
   * change until the promise settles; it is left in place. A missing file rejects with its `ENOENT` error.
   */
  putFile(key: string, path: string, options?: PutOptions): Promise<void>;
  /** The object's bytes, or undefined when there is no such object. */
  get(key: string): Promise<Uint8Array | undefined>;
  /** Every object whose key starts with `prefix`, in key order. */
  list(prefix: string): Promise<ObjectInfo[]>;
  /** Removes the object; removing an absent object is not an error. */
  delete(key: string): Promise<void>;
}
