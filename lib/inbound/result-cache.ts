import { ExpiringMap, type Expiring } from '../core/expiring-map.js';

// The introspection results a validator keeps: the package's one bounded expiring map, rather than
// bending cache/ (which is about tokens we fetch, their refresh ahead and 401s). The validator
// chooses each entry's end (its `until`) and its clock: `performance.now()` for both stores, so that
// a wall-clock step neither stretches nor cuts short a result's maxAge or a refusal's TTL.

/** Introspection results by token digest: oldest written evicted first, expired ones swept on writes. */
export class ResultCache<T extends Expiring> extends ExpiringMap<T> {}
