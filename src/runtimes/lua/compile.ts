/**
 * Compiling a Lua action once, at deploy: the source is loaded (parsed, never run) in a throwaway
 * VM and dumped to bytecode, which instances load without compiling again. A syntax error fails
 * the deploy with Lua's own message (`hello.lua:3: 'end' expected near <eof>`).
 */

/** Compiles `source` (named `chunkName` in error messages and tracebacks) to Lua 5.4 bytecode. */
export async function compileLua(
  source: string,
  chunkName: string,
): Promise<{ ok: true; bytecode: Buffer } | { ok: false; message: string }> {
  // Loaded on use, so the build shim loads wasmoon only for Lua builds.
  const { LuaFactory, LuaLibraries } = await import('wasmoon');
  const engine = await new LuaFactory().createEngine({
    openStandardLibs: false,
    injectObjects: false,
    enableProxy: false,
  });
  try {
    const g = engine.global;
    g.loadLibrary(LuaLibraries.Base);
    g.loadLibrary(LuaLibraries.String);
    g.set('__source', source);
    g.set('__name', `@${chunkName}`);
    // Hex keeps the binary dump intact on its way out of Lua (strings come back as UTF-8).
    const result: unknown = engine.doStringSync(`
      local fn, err = load(__source, __name, 't')
      if fn == nil then return { false, err } end
      return { true, (string.dump(fn):gsub('.', function(c) return string.format('%02x', c:byte()) end)) }
    `);
    const [ok, value] = Array.isArray(result)
      ? (result as [boolean, string])
      : [false, 'compiler returned nothing'];
    return ok ? { ok: true, bytecode: Buffer.from(value, 'hex') } : { ok: false, message: String(value) };
  } finally {
    engine.global.close();
  }
}
