-- Step spans of order-service per line of business and step, with their mean
-- and 90th-percentile duration in milliseconds (Duration is in nanoseconds).
SELECT
    Lob,
    SpanName AS step,
    count(*) AS spans,
    count(DISTINCT OrderId) AS orders,
    sum(CASE WHEN StatusCode = 'Error' THEN 1 ELSE 0 END) AS failed,
    round(avg(Duration) / 1e6, 2) AS avg_ms,
    round(quantile_cont(Duration, 0.9) / 1e6, 2) AS p90_ms
FROM otel_traces
WHERE ServiceName = 'order-service'
  AND ParentSpanId <> ''
GROUP BY Lob, SpanName
ORDER BY Lob, step
