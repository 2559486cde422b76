// Module config: the configuration file and environment variables, validated and frozen.
// Owns: the schema, loading, environment overrides and hot reload.
// May import: core (values); types only from the domain modules.
export * from './schema.js';
