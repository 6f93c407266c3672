# Runs PROGRAM under memscope-run (RUN), analyses the trace (ANALYZE) to JSON, and checks that the
# first (root) process's performance_insights.primary_bottleneck is EXPECT. Prints the verdict,
# its evidence and the figures either way, so a failure on a noisy machine can be diagnosed.
file(REMOVE_RECURSE ${WORK})
file(MAKE_DIRECTORY ${WORK})
execute_process(COMMAND ${RUN} -q -o ${WORK}/trace -- ${PROGRAM} ${WORK}/scratch.dat
                WORKING_DIRECTORY ${WORK} RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "memscope-run ${PROGRAM} failed: ${rc}")
endif()
execute_process(COMMAND ${ANALYZE} ${WORK}/trace --quiet --json ${WORK}/analysis.json
                RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "memscope-analyze failed: ${rc}")
endif()
file(READ ${WORK}/analysis.json report)
string(JSON insights GET "${report}" processes 0 performance_insights)
string(JSON verdict GET "${insights}" primary_bottleneck)
string(JSON evidence GET "${insights}" evidence)
string(JSON figures GET "${insights}" figures)
message("verdict: ${verdict}\nevidence: ${evidence}\nfigures: ${figures}")
if(NOT verdict STREQUAL EXPECT)
  message(FATAL_ERROR "expected ${EXPECT}, got ${verdict}")
endif()
