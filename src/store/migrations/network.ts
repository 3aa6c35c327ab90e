// Migrations for the network tables: versions 10-19 are reserved for them (see ../migrations.ts).
import type { Migration } from '../migrations.ts';

export const NETWORK_MIGRATIONS: readonly Migration[] = [
];
