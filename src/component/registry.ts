import type {
  ComponentDefinition,
  ProcessorDefinition,
  SinkDefinition,
  SourceDefinition,
} from './component.js';
import type { SimulatedClusterStarter } from './node-target.js';

type KindMap = { source: SourceDefinition; processor: ProcessorDefinition; sink: SinkDefinition };

/**
 * The component types a pipeline may name. One registry per pipeline (no global state): the CLI fills it with
 * the built-ins, tests and embedders can add their own.
 *
 * @example
 * const registry = new Registry().register(myProcessor);
 */
export class Registry {
  private readonly byKind = {
    source: new Map<string, SourceDefinition>(),
    processor: new Map<string, ProcessorDefinition>(),
    sink: new Map<string, SinkDefinition>(),
  };

  /** What starts `discovery: { simulated }` clusters; unset, such a source fails at start with a clear error. */
  private simulator: SimulatedClusterStarter | undefined;

  /** Lets sources run `discovery: { simulated }`: the composition root passes the simulator here. */
  provideSimulator(start: SimulatedClusterStarter): this {
    this.simulator = start;
    return this;
  }

  get simulatedClusterStarter(): SimulatedClusterStarter | undefined {
    return this.simulator;
  }

  register(...definitions: readonly ComponentDefinition[]): this {
    for (const def of definitions) {
      const map = this.byKind[def.kind] as Map<string, ComponentDefinition>;
      if (map.has(def.type)) throw new Error(`${def.kind} type "${def.type}" is registered twice`);
      map.set(def.type, def);
    }
    return this;
  }

  /**
   * A new registry with everything this one holds (the simulator too) and `definitions` added: the registry of a
   * pipeline whose file lists `plugins:`. This one is left as it was, so a reload starts again from the built-ins.
   *
   * @example
   * const pipelineRegistry = builtins.with(topPods, mySink);
   */
  with(...definitions: readonly ComponentDefinition[]): Registry {
    const copy = new Registry();
    for (const kind of ['source', 'processor', 'sink'] as const) {
      for (const def of this.byKind[kind].values()) copy.register(def);
    }
    copy.simulator = this.simulator;
    return copy.register(...definitions);
  }

  get<K extends keyof KindMap>(kind: K, type: string): KindMap[K] | undefined {
    return this.byKind[kind].get(type) as KindMap[K] | undefined;
  }

  types(kind: keyof KindMap): string[] {
    return [...this.byKind[kind].keys()].sort();
  }
}
