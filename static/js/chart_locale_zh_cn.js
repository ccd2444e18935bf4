// Simplified Chinese for plotly.js's own words (mode bar, hover words, dates). Our own chart labels
// are translated by Django; this covers what plotly.js writes itself. Registered as "zh-CN".
(function () {
  "use strict";
  if (!window.Plotly) { return; }
  window.Plotly.register({
    moduleType: "locale",
    name: "zh-CN",
    dictionary: {
      "Autoscale": "自动缩放",
      "Box Select": "矩形选择",
      "Compare data on hover": "悬停时比较数据",
      "Double-click to zoom back out": "双击返回缩放前",
      "Download plot": "下载图表",
      "Download plot as a png": "下载为 PNG 图片",
      "Download plot as a PNG": "下载为 PNG 图片",
      "Download plot as SVG": "下载为 SVG 图片",
      "Lasso Select": "套索选择",
      "Pan": "平移",
      "Produced with Plotly.js": "由 Plotly.js 生成",
      "Reset": "重置",
      "Reset axes": "重置坐标轴",
      "Reset view": "重置视图",
      "Reset views": "重置视图",
      "Show closest data on hover": "悬停时显示最近的数据",
      "Snapshot succeeded": "截图成功",
      "Sorry, there was a problem downloading your snapshot!": "抱歉，下载截图时出现问题！",
      "Taking snapshot - this may take a few seconds": "正在截图，可能需要几秒钟",
      "Toggle Spike Lines": "切换辅助线",
      "Toggle show closest data on hover": "切换悬停时显示最近的数据",
      "Zoom": "缩放",
      "Zoom in": "放大",
      "Zoom out": "缩小",
      "incoming flow count:": "流入数量：",
      "outgoing flow count:": "流出数量：",
      "Source:": "来源：",
      "Target:": "目标：",
      "trace": "数据系列"
    },
    format: {
      days: ["星期日", "星期一", "星期二", "星期三", "星期四", "星期五", "星期六"],
      shortDays: ["周日", "周一", "周二", "周三", "周四", "周五", "周六"],
      months: ["一月", "二月", "三月", "四月", "五月", "六月", "七月", "八月", "九月", "十月", "十一月", "十二月"],
      shortMonths: ["1月", "2月", "3月", "4月", "5月", "6月", "7月", "8月", "9月", "10月", "11月", "12月"],
      date: "%Y-%m-%d",
      decimal: ".",
      thousands: ","
    }
  });
})();
