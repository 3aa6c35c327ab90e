// Migrations for the analytics tables: versions 30-39 are reserved for them (see ../migrations.ts).
import type { Migration } from '../migrations.ts';

export const ANALYTICS_MIGRATIONS: readonly Migration[] = [
];
