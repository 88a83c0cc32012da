# R's forecast::auto.arima for benchmarks/bench_forecast.py: a long-lived worker.
# Reads lines "INPUT_CSV M H REPEATS OUTPUT_CSV" on stdin; fits auto.arima REPEATS times on the
# column y of INPUT_CSV (a ts of frequency M), forecasts H steps with 80/95 % intervals,
# writes them to OUTPUT_CSV and answers "OK <median cpu s> <median wall s> <model>".
suppressMessages(library(forecast))
con <- file("stdin")
open(con)
cat("READY\n"); flush(stdout())
while (length(line <- readLines(con, n = 1)) > 0) {
  a <- strsplit(line, " ")[[1]]
  y <- ts(read.csv(a[1])$y, frequency = as.integer(a[2]))
  h <- as.integer(a[3]); reps <- as.integer(a[4])
  cpu <- numeric(reps); wall <- numeric(reps)
  for (r in seq_len(reps)) {
    t <- system.time(fit <- auto.arima(y))
    cpu[r] <- t[["user.self"]] + t[["sys.self"]]; wall[r] <- t[["elapsed"]]
  }
  fc <- forecast(fit, h = h, level = c(80, 95))
  write.csv(data.frame(mean = as.numeric(fc$mean), lo80 = as.numeric(fc$lower[, 1]),
                       hi80 = as.numeric(fc$upper[, 1]), lo95 = as.numeric(fc$lower[, 2]),
                       hi95 = as.numeric(fc$upper[, 2])), a[5], row.names = FALSE)
  cat("OK", median(cpu), median(wall), gsub(" ", "_", forecast:::arima.string(fit)), "\n")
  flush(stdout())
}
