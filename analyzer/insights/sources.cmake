# Insights sources (correlations, bottleneck rules, scores, recommendations; docs/analysis.md),
# added to memscope_analysis from analyzer/CMakeLists.txt so this list lives with the code.
target_sources(memscope_analysis PRIVATE
  ${CMAKE_CURRENT_LIST_DIR}/aligned.cpp
  ${CMAKE_CURRENT_LIST_DIR}/bottleneck.cpp
  ${CMAKE_CURRENT_LIST_DIR}/correlations.cpp
  ${CMAKE_CURRENT_LIST_DIR}/figures.cpp
  ${CMAKE_CURRENT_LIST_DIR}/hardware_figures.cpp
  ${CMAKE_CURRENT_LIST_DIR}/insights_report.cpp
  ${CMAKE_CURRENT_LIST_DIR}/metric_series.cpp
  ${CMAKE_CURRENT_LIST_DIR}/recommendations.cpp
  ${CMAKE_CURRENT_LIST_DIR}/statistics.cpp)
