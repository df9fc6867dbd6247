/** The shapes of the API answers the pages read (a subset of the library's types). */

export interface Span {
  start: number;
  end: number;
  label: string;
}

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

export interface DatasetVersion {
  id: string;
  name: string;
  parentId: string | null;
  operation: { kind: string; params: Record<string, unknown> };
  exampleCount: number;
  splitCounts: Record<string, number>;
  createdAt: string;
}

export interface Run {
  id: string;
  kind: string;
  name: string | null;
  status: string;
  config: Record<string, unknown>;
  datasetVersions: string[];
  seed: number | null;
  metrics: Record<string, number>;
  tags: string[];
  startedAt: string;
  endedAt: string | null;
  parentId: string | null;
}

export interface MetricPoint {
  key: string;
  step: number;
  value: number;
}

export interface SeriesPoint {
  model: string;
  version: number;
  t: string;
  logged: number;
  p50: number | null;
  p99: number | null;
  overridden: number;
  up: number;
  down: number;
  thumbsUpRate: number | null;
}

export interface DailyUsage {
  model: string;
  version: number;
  day: string;
  requests: number;
  items: number;
  overridden: number;
  errors: number;
  up: number;
  down: number;
  corrections: number;
  thumbsUpRate: number | null;
  errorRate: number | null;
}

export interface MonitorSeries {
  tenant: string;
  bucket: 'hour' | 'day';
  since: string;
  points: SeriesPoint[];
  daily: DailyUsage[];
}

export interface RegisteredModel {
  name: string;
  task: string;
  latestVersion: number;
  aliases: Record<string, number>;
}
