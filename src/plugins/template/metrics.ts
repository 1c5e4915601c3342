/**
 * @module plugins/template/metrics
 * CoreDNS's template metrics, same names and labels:
 * coredns_template_matches_total{server,zone,view,class,type},
 * coredns_template_template_failures_total and coredns_template_rr_failures_total
 * {server,zone,view,class,type,section,template}. Label children are kept,
 * so a match costs one map lookup and an increment.
 */
import { Counter } from '../../metrics/prom-client.ts';
import type { Registry } from 'prom-client';
import { processMetric } from '../../metrics/registry.ts';
import type { ProcessServices } from '../../plugin/process-services.ts';

type Child = ReturnType<Counter['labels']>;

export class TemplateMetrics {
  readonly #matches: Counter;
  readonly #templateFailures: Counter;
  readonly #rrFailures: Counter;
  readonly #children = new Map<string, Child>();

  constructor(registry: Registry) {
    const labelNames = ['server', 'zone', 'view', 'class', 'type'];
    this.#matches = new Counter({ name: 'coredns_template_matches_total', help: 'Counter of template regex matches.', labelNames, registers: [registry] });
    const failLabels = [...labelNames, 'section', 'template'];
    this.#templateFailures = new Counter({ name: 'coredns_template_template_failures_total', help: 'Counter of go template failures.', labelNames: failLabels, registers: [registry] });
    this.#rrFailures = new Counter({ name: 'coredns_template_rr_failures_total', help: 'Counter of mis-templated RRs.', labelNames: failLabels, registers: [registry] });
  }

  match(server: string, zone: string, cls: string, type: string): void {
    const key = `${server}\0${zone}\0${cls}\0${type}`;
    let c = this.#children.get(key);
    if (c === undefined) {
      c = this.#matches.labels({ server, zone, view: '', class: cls, type });
      this.#children.set(key, c);
    }
    c.inc();
  }

  /** A template that failed to run ('template') or produced a record that does not parse ('rr'). */
  failure(kind: 'template' | 'rr', server: string, zone: string, cls: string, type: string, section: string, template: string): void {
    (kind === 'template' ? this.#templateFailures : this.#rrFailures).inc({ server, zone, view: '', class: cls, type, section, template });
  }
}

export function templateMetrics(services: ProcessServices): TemplateMetrics {
  return processMetric(services, 'template', (registry) => new TemplateMetrics(registry));
}
