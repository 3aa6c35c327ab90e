// What the TAXII server needs from storage. The HTTP side (taxii-server.ts) does protocol work only:
// negotiation, auth, paging tokens, envelopes. A storage keeps collections, every version of every
// object, and status resources; sqlite-taxii-storage.ts is the one we ship.

export interface CollectionRecord {
  readonly id: string;
  readonly apiRoot: string;
  readonly title: string;
  readonly description: string | null;
  readonly canRead: boolean;
  readonly canWrite: boolean;
}

/** One stored version of an object. */
export interface StoredObject {
  readonly seq: number;
  readonly id: string;
  readonly type: string;
  /** Fixed-width UTC timestamp (stix-time.ts formatStixMicros). */
  readonly version: string;
  readonly specVersion: string;
  readonly dateAddedUs: number;
  readonly json: string;
}

export interface ObjectQuery {
  readonly collectionId: string;
  /** Only objects added strictly after this (microseconds). */
  readonly addedAfterUs?: number;
  /** Continue after the object added at this time (from a `next` token; date_added is unique). */
  readonly afterUs?: number;
  readonly types?: readonly string[];
  readonly ids?: readonly string[];
  /** `first`, `last`, `all` and/or fixed-width version timestamps; default `last`. */
  readonly versions?: readonly string[];
  readonly specVersions?: readonly string[];
  readonly limit: number;
}

export interface AddResult {
  readonly id: string;
  readonly version: string;
  readonly ok: boolean;
  readonly message?: string;
}

export interface StatusRecord {
  readonly id: string;
  readonly collectionId: string;
  readonly status: 'pending' | 'complete';
  readonly createdUs: number;
  readonly successes: readonly AddResult[];
  readonly failures: readonly AddResult[];
  readonly pendings: readonly AddResult[];
}

export interface TaxiiStorage {
  collections(apiRoot: string): CollectionRecord[];
  collection(apiRoot: string, id: string): CollectionRecord | null;
  /** Objects in date_added order; `more` tells whether another matching object follows the last one. */
  query(q: ObjectQuery): { objects: StoredObject[]; more: boolean };
  /** Adds valid objects (a version already held counts as a success) and records a status. */
  add(collectionId: string, objects: readonly unknown[]): StatusRecord;
  status(apiRoot: string, id: string): StatusRecord | null;
}
