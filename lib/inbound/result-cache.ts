import { ExpiringMap } from '../core/expiring-map.js';

// The introspection results a validator keeps: the package's one bounded expiring map, rather than
// bending cache/ (which is about tokens we fetch, their refresh ahead and 401s). The validator
// chooses each entry's end and its clock: epoch ms for an active result (the token's `exp`),
// `performance.now()` for a refusal (a TTL a wall-clock step must not stretch).

/** Introspection results by token digest: oldest written evicted first, expired ones swept on writes. */
export class ResultCache<T> extends ExpiringMap<T> {}
