// Sends a known set of traces, logs and metrics to exos through the
// OpenTelemetry JS SDK's OTLP/HTTP exporters, which send OTLP JSON. Then
// prints what the SDK recorded in memory (ids, times, attributes) as one JSON
// object on stdout. tests/python/test_sdk_node.py compares that output with
// the stored rows.
//
// usage: node send.mjs OTLP_HTTP_URL INGEST_KEY
//
// Exits non-zero when an export fails: the processors' forceFlush() rejects
// when the exporter reports a failure.

import {
  DiagConsoleLogger,
  DiagLogLevel,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  TraceFlags,
  createTraceState,
  diag,
  trace,
} from '@opentelemetry/api';
import { SeverityNumber } from '@opentelemetry/api-logs';
import { OTLPLogExporter } from '@opentelemetry/exporter-logs-otlp-http';
import { OTLPMetricExporter } from '@opentelemetry/exporter-metrics-otlp-http';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { defaultResource, resourceFromAttributes } from '@opentelemetry/resources';
import {
  BatchLogRecordProcessor,
  InMemoryLogRecordExporter,
  LoggerProvider,
  SimpleLogRecordProcessor,
} from '@opentelemetry/sdk-logs';
import { AggregationType, MeterProvider, PeriodicExportingMetricReader } from '@opentelemetry/sdk-metrics';
import {
  BasicTracerProvider,
  BatchSpanProcessor,
  InMemorySpanExporter,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';

const RUM_SESSION_ID = '9d8c7b6a5f4e3d2c1b0a99887766554f';
const SERVICE_NAME = 'checkout-node';
const EXPORT_TIMEOUT_MS = 30_000;
// One metric export per run: the test flushes explicitly.
const METRIC_INTERVAL_MS = 3_600_000;

// A span context from another trace, as a queue consumer would link to.
const LINKED_CONTEXT = {
  traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
  spanId: '00f067aa0ba902b7',
  traceFlags: TraceFlags.SAMPLED,
  isRemote: true,
  traceState: createTraceState('vendor=xyz'),
};

function parseArguments() {
  const [url, key] = process.argv.slice(2);
  if (!url || !key) {
    process.stderr.write('usage: node send.mjs OTLP_HTTP_URL INGEST_KEY\n');
    process.exit(2);
  }
  return { url: url.replace(/\/+$/, ''), key };
}

// HrTime [seconds, nanoseconds] keeps nanosecond digits that a millisecond
// number would lose. The start lies a minute in the past, with a fraction
// that has non-zero nanosecond digits.
function baseTime() {
  return [Math.floor(Date.now() / 1000) - 60, 123_456_789];
}

function addNanos([seconds, nanos], delta) {
  const total = nanos + delta;
  return [seconds + Math.floor(total / 1e9), total % 1e9];
}

function hrTimeToNanos([seconds, nanos]) {
  return (BigInt(seconds) * 1_000_000_000n + BigInt(nanos)).toString();
}

function recordOrderTrace(tracer, base) {
  const root = tracer.startSpan('POST /orders', {
    kind: SpanKind.SERVER,
    startTime: base,
    attributes: {
      'order.id': 'ORD-2026-N01',
      'operator.id': 'op-901',
      lob: 'Flood',
      'user.id': 'cleo@example.com',
      'http.request.method': 'POST',
      'http.response.status_code': 201,
      'order.rush': true,
      'order.discount_ratio': 0.15,
      'order.skus': ['SKU-1', 'SKU-9'],
      'order.quantities': [2, 1],
      'order.weights': [0.5, 1.25],
      'order.note': 'café "déjà vu" ✓',
    },
  });
  root.addEvent('order.received', { items: 3, rush: false, channel: 'web' }, addNanos(base, 1_000));
  const parent = trace.setSpan(ROOT_CONTEXT, root);

  const client = tracer.startSpan(
    'GET /inventory',
    { kind: SpanKind.CLIENT, startTime: addNanos(base, 2_000_000), attributes: { 'server.port': 8443 } },
    parent,
  );
  client.recordException(new RangeError('out of stock: SKU-9'), addNanos(base, 3_000_007));
  client.setStatus({ code: SpanStatusCode.ERROR, message: 'inventory timeout' });
  client.end(addNanos(base, 52_000_001));

  const pricing = tracer.startSpan(
    'price order',
    {
      kind: SpanKind.INTERNAL,
      startTime: addNanos(base, 60_000_000),
      links: [{ context: LINKED_CONTEXT, attributes: { 'link.reason': 'batch', 'link.position': 2 } }],
    },
    parent,
  );
  pricing.setStatus({ code: SpanStatusCode.OK });
  pricing.end(addNanos(base, 61_500_000));

  root.end(addNanos(base, 123_456_789));
  return parent;
}

function emitLogs(logger, parent, base) {
  logger.emit({
    timestamp: addNanos(base, 10_000_000),
    context: parent,
    severityNumber: SeverityNumber.WARN,
    severityText: 'WARN',
    body: 'inventory low for ORD-2026-N02',
    attributes: {
      'order.id': 'ORD-2026-N02',
      'operator.id': 'op-902',
      lob: 'Title',
      'user.id': 'dan@example.com',
      'rum.session_id': RUM_SESSION_ID,
      attempt: 2,
      backoff_ratio: 1.5,
    },
  });
  logger.emit({
    timestamp: addNanos(base, 20_000_000),
    severityNumber: SeverityNumber.ERROR,
    severityText: 'ERROR',
    body: 'payment declined',
    attributes: { 'order.id': 'ORD-2026-N03' },
  });
}

function recordMetrics(meter) {
  const orders = meter.createCounter('exos.e2e.orders', { unit: '{order}', description: 'Orders processed' });
  orders.add(3, { lob: 'Appraisal' });
  orders.add(2, { lob: 'Title' });
  orders.add(4, { lob: 'Appraisal' });

  const queue = meter.createUpDownCounter('exos.e2e.queue_depth', { unit: '{order}', description: 'Orders waiting' });
  queue.add(5, { queue: 'review' });
  queue.add(-2, { queue: 'review' });

  const steps = meter.createHistogram('exos.e2e.step_duration', { unit: 'ms', description: 'Step duration' });
  for (const value of [3, 7, 7, 120, 20_000]) {
    steps.record(value, { step: 'review' });
  }

  const payloads = meter.createHistogram('exos.e2e.payload_size', { unit: 'By', description: 'Payload size' });
  for (const value of [1, 2, 4, 1024]) {
    payloads.record(value, { route: '/orders' });
  }

  const cpu = meter.createObservableGauge('exos.e2e.cpu_ratio', { unit: '1', description: 'CPU busy ratio' });
  cpu.addCallback((result) => result.observe(0.42, { core: '0' }));
}

function describeSpan(span) {
  const context = span.spanContext();
  return {
    name: span.name,
    traceId: context.traceId,
    spanId: context.spanId,
    traceState: context.traceState ? context.traceState.serialize() : '',
    parentSpanId: span.parentSpanContext ? span.parentSpanContext.spanId : '',
    kind: SpanKind[span.kind],
    startNs: hrTimeToNanos(span.startTime),
    endNs: hrTimeToNanos(span.endTime),
    status: { code: SpanStatusCode[span.status.code], message: span.status.message ?? '' },
    attributes: span.attributes,
    resourceAttributes: span.resource.attributes,
    scope: { name: span.instrumentationScope.name, version: span.instrumentationScope.version ?? '' },
    events: span.events.map((event) => ({
      name: event.name,
      timeNs: hrTimeToNanos(event.time),
      attributes: event.attributes ?? {},
    })),
    links: span.links.map((link) => ({
      traceId: link.context.traceId,
      spanId: link.context.spanId,
      traceState: link.context.traceState ? link.context.traceState.serialize() : '',
      attributes: link.attributes ?? {},
    })),
  };
}

function describeLog(record) {
  return {
    body: record.body,
    timeNs: hrTimeToNanos(record.hrTime),
    traceId: record.spanContext?.traceId ?? '',
    spanId: record.spanContext?.spanId ?? '',
    traceFlags: record.spanContext?.traceFlags ?? 0,
    severityText: record.severityText,
    severityNumber: record.severityNumber,
    attributes: record.attributes,
    resourceAttributes: record.resource.attributes,
    scope: { name: record.instrumentationScope.name, version: record.instrumentationScope.version ?? '' },
  };
}

async function main() {
  const { url, key } = parseArguments();
  diag.setLogger(new DiagConsoleLogger(), DiagLogLevel.WARN);

  // The bare key in `authorization` is how the HyperDX browser SDK sends it.
  const headers = { authorization: key };
  const resource = defaultResource().merge(
    resourceFromAttributes({
      'service.name': SERVICE_NAME,
      'service.version': '5.0.0',
      'deployment.environment.name': 'e2e',
      'host.cpu.count': 2,
      'rum.sessionId': RUM_SESSION_ID,
    }),
  );

  const spans = new InMemorySpanExporter();
  const tracerProvider = new BasicTracerProvider({
    resource,
    spanProcessors: [
      new SimpleSpanProcessor(spans),
      new BatchSpanProcessor(
        new OTLPTraceExporter({ url: `${url}/v1/traces`, headers, timeoutMillis: EXPORT_TIMEOUT_MS }),
      ),
    ],
  });
  const logs = new InMemoryLogRecordExporter();
  const loggerProvider = new LoggerProvider({
    resource,
    processors: [
      new SimpleLogRecordProcessor({ exporter: logs }),
      new BatchLogRecordProcessor({
        exporter: new OTLPLogExporter({ url: `${url}/v1/logs`, headers, timeoutMillis: EXPORT_TIMEOUT_MS }),
      }),
    ],
  });
  const meterProvider = new MeterProvider({
    resource,
    readers: [
      new PeriodicExportingMetricReader({
        exporter: new OTLPMetricExporter({ url: `${url}/v1/metrics`, headers, timeoutMillis: EXPORT_TIMEOUT_MS }),
        exportIntervalMillis: METRIC_INTERVAL_MS,
        exportTimeoutMillis: EXPORT_TIMEOUT_MS,
      }),
    ],
    views: [
      {
        instrumentName: 'exos.e2e.step_duration',
        aggregation: { type: AggregationType.EXPLICIT_BUCKET_HISTOGRAM, options: { boundaries: [10, 100, 1000] } },
      },
      {
        instrumentName: 'exos.e2e.payload_size',
        aggregation: { type: AggregationType.EXPONENTIAL_HISTOGRAM, options: { maxSize: 20 } },
      },
    ],
  });

  const base = baseTime();
  const parent = recordOrderTrace(tracerProvider.getTracer('exos.e2e.node', '7.1.0'), base);
  emitLogs(loggerProvider.getLogger('exos.e2e.node.logs', '7.1.0'), parent, base);
  recordMetrics(meterProvider.getMeter('exos.e2e.node.meter', '7.1.0'));

  await tracerProvider.forceFlush();
  await loggerProvider.forceFlush();
  // The meter provider's shutdown collects and exports once, so a forceFlush
  // before it would store every cumulative point twice.
  await meterProvider.shutdown();

  const output = {
    service: SERVICE_NAME,
    spans: spans.getFinishedSpans().map(describeSpan),
    logs: logs.getFinishedLogRecords().map(describeLog),
  };
  await Promise.all([tracerProvider.shutdown(), loggerProvider.shutdown()]);
  process.stdout.write(`${JSON.stringify(output)}\n`);
}

main().catch((error) => {
  process.stderr.write(`send.mjs: export failed: ${error?.stack ?? error}\n`);
  process.exit(1);
});
