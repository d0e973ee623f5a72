/**
 * A `.wasm` import as workerd and wrangler's default module rules give it: the module compiled at deploy
 * time. Only the workerd entries (index_workerd.ts, entries/wasm*_workerd.ts) import one.
 */
declare module '*.wasm' {
  const compiledModule: object;
  export default compiledModule;
}
