/** The shapes of the API answers the pages read: the library's own types where the API answers them as they are. */

export type { BrowsedError } from '../../src/analysis/error-list.ts';
export type { Annotation, AnnotationQueue, PairAgreement, QueueItem } from '../../src/data/annotation.ts';
export type { Span } from '../../src/data/types.ts';
export type { DailyUsage, MonitorSeries, SeriesPoint } from '../../src/monitor/time-series.ts';
export type { DatasetVersion, MetricPoint, Run } from '../../src/store/store.ts';

export interface ProjectView {
  card: {
    name: string;
    task: 'ner' | 'classify' | 'multilabel';
    description?: string | null;
    labels: string[];
    metrics: { primary: string; secondary: string[] };
  };
  stages: { id: string; done: boolean; detail: string }[];
  milestone: {
    reached: number;
    name: string | null;
    checks: { level: number; name: string; criterion: string; met: boolean; evidence: string }[];
  };
  recommendations: { id: string; priority: number; title: string; why: string; command: string | null }[];
  models: {
    name: string;
    task: string;
    latestVersion: number;
    production: number | null;
    aliases: Record<string, number>;
  }[];
  state: {
    runs: { total: number; finished: number; failed: number; running: number };
    datasets: { name: string; versions: number; latest: string; examples: number }[];
    best: {
      id: string;
      architecture: string;
      dev: number | null;
      test: number | null;
      rankedBy: string;
      score: number;
    } | null;
  };
}

export interface RegisteredModel {
  name: string;
  task: string;
  latestVersion: number;
  aliases: Record<string, number>;
}
