// The import rules of ARCHITECTURE §2, checked against Nx's project graph.

/** Workspace projects each kind of project may depend on (short names, without the scope). */
export function allowedDependencies(name, tags) {
  if (name === 'types' || name === 'dev-engine') return [];
  if (name === 'runtime') return ['types'];
  if (name === 'provider-kit') return ['types', 'runtime'];
  if (name === 'testing') return ['types', 'runtime', 'provider-kit', 'dev-engine'];
  if (tags.includes('type:cli') || tags.includes('type:e2e')) return null; // floor 4 and cross-worker tests: anything
  if (tags.includes('type:worker'))
    return ['types', 'runtime', 'testing', ...(name.startsWith('provider-') ? ['provider-kit'] : [])];
  return ['types', 'runtime'];
}

const short = (project) => project.replace(/^@iii-harness\//, '');

/** Cycles in a graph of { name: [dependency names] }, each as a path. */
export function findCycles(edges) {
  const cycles = [];
  const state = new Map();
  const visit = (node, path) => {
    if (state.get(node) === 'done') return;
    if (state.get(node) === 'open') return void cycles.push([...path.slice(path.indexOf(node)), node]);
    state.set(node, 'open');
    for (const next of edges[node] ?? []) visit(next, [...path, node]);
    state.set(node, 'done');
  };
  for (const node of Object.keys(edges)) visit(node, []);
  return cycles;
}

/** Problems with an Nx graph JSON (`nx graph --file`): cycles and layer violations. */
export function checkGraph(graphJson) {
  const { nodes, dependencies } = graphJson.graph;
  const edges = {};
  for (const [project, deps] of Object.entries(dependencies)) {
    if (!nodes[project]) continue;
    edges[short(project)] = deps
      .map((d) => d.target)
      .filter((target) => nodes[target])
      .map(short);
  }
  const problems = findCycles(edges).map((cycle) => `dependency cycle: ${cycle.join(' → ')}`);
  for (const [name, deps] of Object.entries(edges)) {
    const node = nodes[`@iii-harness/${name}`] ?? nodes[name];
    const allowed = allowedDependencies(name, node?.data?.tags ?? []);
    if (allowed === null) continue;
    for (const dep of deps)
      if (!allowed.includes(dep))
        problems.push(
          `${name} must not depend on ${dep} (allowed: ${allowed.join(', ') || 'nothing in the workspace'})`,
        );
  }
  return { edges, problems };
}
