# perfsight-agent and its element sources (issue 5).
