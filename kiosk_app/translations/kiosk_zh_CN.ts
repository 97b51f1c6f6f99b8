<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="zh_CN">
<context>
    <name>AccountScreen</name>
    <message>
        <location filename="../features/bills/screens.py" line="347"/>
        <source>Pay from your prepaid account</source>
        <translation>预交金支付</translation>
    </message>
    <message>
        <location filename="../features/bills/screens.py" line="351"/>
        <source>You confirmed who you are with your face. The amount is taken from your prepaid account; the receipt shows it.</source>
        <translation>您已通过人脸确认身份。费用将从您的预交金账户中扣除，凭条上会注明。</translation>
    </message>
    <message>
        <location filename="../features/bills/screens.py" line="356"/>
        <source>Pay {amount} from my account</source>
        <translation>从预交金支付 {amount}</translation>
    </message>
</context>
<context>
    <name>AlreadyFiledScreen</name>
    <message>
        <location filename="../screens/filing/outcome.py" line="69"/>
        <source>You already have a record here</source>
        <translation>您已在本院建档</translation>
    </message>
    <message>
        <location filename="../screens/filing/outcome.py" line="70"/>
        <source>Visit card number</source>
        <translation>就诊卡号</translation>
    </message>
    <message>
        <location filename="../screens/filing/outcome.py" line="74"/>
        <source>No need to file again: register or pay with your ID card.</source>
        <translation>无需重复建档：挂号、缴费时请使用身份证。</translation>
    </message>
    <message>
        <location filename="../screens/filing/outcome.py" line="75"/>
        <source>Back to the start</source>
        <translation>返回首页</translation>
    </message>
</context>
<context>
    <name>ApproveScreen</name>
    <message>
        <location filename="../features/cashier/screens_refund.py" line="138"/>
        <source>Supervisor approval</source>
        <translation>主管审批</translation>
    </message>
    <message>
        <location filename="../features/cashier/screens_refund.py" line="141"/>
        <source>Refund {amount}: the supervisor enters their staff number and PIN.</source>
        <translation>退费 {amount}：请主管输入工号和密码。</translation>
    </message>
    <message>
        <location filename="../features/cashier/screens_refund.py" line="145"/>
        <source>Supervisor number: {n}</source>
        <translation>主管工号：{n}</translation>
    </message>
    <message>
        <location filename="../features/cashier/screens_refund.py" line="146"/>
        <source>PIN: {dots}</source>
        <translation>密码：{dots}</translation>
    </message>
    <message>
        <location filename="../features/cashier/screens_refund.py" line="150"/>
        <source>Next</source>
        <translation>下一步</translation>
    </message>
    <message>
        <location filename="../features/cashier/screens_refund.py" line="150"/>
        <source>Approve</source>
        <translation>批准</translation>
    </message>
</context>
<context>
    <name>BillListScreen</name>
    <message>
        <location filename="../features/bills/screens.py" line="126"/>
        <source>Being paid elsewhere; try again after {time}</source>
        <translation>正在别处缴费，请于 {time} 后再试</translation>
    </message>
    <message>
        <location filename="../features/bills/screens.py" line="139"/>
        <source>Looking up your bills…</source>
        <translation>正在查询待缴费项目…</translation>
    </message>
    <message>
        <location filename="../features/bills/screens.py" line="141"/>
        <source>Patient: {name}. There is nothing to pay.</source>
        <translation>就诊人：{name}。暂无待缴费项目。</translation>
    </message>
    <message>
        <location filename="../features/bills/screens.py" line="143"/>
        <source>Patient: {name}. Touch an item to leave it out or put it back.</source>
        <translation>就诊人：{name}。点击项目可取消或重新勾选。</translation>
    </message>
    <message>
        <location filename="../features/bills/screens.py" line="145"/>
        <source>Bills to pay</source>
        <translation>待缴费项目</translation>
    </message>
    <message>
        <location filename="../features/bills/screens.py" line="147"/>
        <source>‹ Previous</source>
        <translation>‹ 上一页</translation>
    </message>
    <message>
        <location filename="../features/bills/screens.py" line="148"/>
        <source>Next ›</source>
        <translation>下一页 ›</translation>
    </message>
    <message>
        <location filename="../features/bills/screens.py" line="149"/>
        <source>Page {page} of {pages}</source>
        <translation>第 {page} / {pages} 页</translation>
    </message>
    <message>
        <location filename="../features/bills/screens.py" line="164"/>
        <source>{n} selected: {amount}</source>
        <translation>已选 {n} 项：{amount}</translation>
    </message>
    <message>
        <location filename="../features/bills/screens.py" line="168"/>
        <source>Pay the selected items</source>
        <translation>缴纳所选项目</translation>
    </message>
</context>
<context>
    <name>BillResultScreen</name>
    <message>
        <location filename="../features/bills/screens.py" line="381"/>
        <source>Paid</source>
        <translation>已支付</translation>
    </message>
    <message>
        <location filename="../features/bills/screens.py" line="382"/>
        <source>Nothing to pay</source>
        <translation>无需支付</translation>
    </message>
    <message>
        <location filename="../features/bills/screens.py" line="383"/>
        <source>Payment being confirmed</source>
        <translation>支付结果确认中</translation>
    </message>
    <message>
        <location filename="../features/bills/screens.py" line="384"/>
        <source>Please pay at the cashier window</source>
        <translation>请到收费窗口缴费</translation>
    </message>
    <message>
        <location filename="../features/bills/screens.py" line="390"/>
        <source>Paid by</source>
        <translation>支付方式</translation>
    </message>
    <message>
        <location filename="../features/bills/screens.py" line="394"/>
        <source>Printing your receipt…</source>
        <translation>正在打印凭条…</translation>
    </message>
    <message>
        <location filename="../features/bills/screens.py" line="395"/>
        <source>Please take your receipt from the slot below.</source>
        <translation>请从下方出纸口取走凭条。</translation>
    </message>
    <message>
        <location filename="../features/bills/screens.py" line="396"/>
        <source>The receipt could not be printed. Your payment is recorded.</source>
        <translation>凭条未能打印，您的缴费已记录。</translation>
    </message>
    <message>
        <location filename="../features/bills/screens.py" line="397"/>
        <source>Try printing the receipt again</source>
        <translation>重新打印凭条</translation>
    </message>
    <message>
        <location filename="../features/bills/screens.py" line="400"/>
        <source>Finish</source>
        <translation>完成</translation>
    </message>
</context>
<context>
    <name>BillWords</name>
    <message>
        <location filename="../features/bills/screens.py" line="49"/>
        <source>Prescription</source>
        <translation>处方</translation>
    </message>
    <message>
        <location filename="../features/bills/screens.py" line="50"/>
        <source>Lab test</source>
        <translation>检验</translation>
    </message>
    <message>
        <location filename="../features/bills/screens.py" line="51"/>
        <source>Imaging</source>
        <translation>检查</translation>
    </message>
    <message>
        <location filename="../features/bills/screens.py" line="52"/>
        <source>Treatment</source>
        <translation>治疗</translation>
    </message>
    <message>
        <location filename="../features/bills/screens.py" line="58"/>
        <source>Payment code</source>
        <translation>付款码</translation>
    </message>
    <message>
        <location filename="../features/bills/screens.py" line="59"/>
        <source>WeChat QR code</source>
        <translation>微信扫码</translation>
    </message>
    <message>
        <location filename="../features/bills/screens.py" line="60"/>
        <source>Alipay QR code</source>
        <translation>支付宝扫码</translation>
    </message>
    <message>
        <location filename="../features/bills/screens.py" line="61"/>
        <source>Prepaid account</source>
        <translation>预交金账户</translation>
    </message>
    <message>
        <location filename="../features/bills/screens.py" line="62"/>
        <source>Medical insurance</source>
        <translation>医保支付</translation>
    </message>
    <message>
        <location filename="../features/bills/screens.py" line="67"/>
        <source>Identified without an insurance card: everything is self-paid. To use your medical insurance, start again with your insurance card or e-voucher.</source>
        <translation>您未使用医保卡或医保电子凭证识别身份，费用全部自费。如需使用医保，请返回后刷社保卡或出示医保电子凭证。</translation>
    </message>
    <message>
        <location filename="../features/bills/screens.py" line="76"/>
        <source>Total</source>
        <translation>费用合计</translation>
    </message>
    <message>
        <location filename="../features/bills/screens.py" line="78"/>
        <source>Medical insurance pays</source>
        <translation>医保支付</translation>
    </message>
    <message>
        <location filename="../features/bills/screens.py" line="81"/>
        <source>You pay</source>
        <translation>个人支付</translation>
    </message>
</context>
<context>
    <name>CardScreen</name>
    <message>
        <location filename="../features/cashier/screens_patient.py" line="283"/>
        <source>Bank card {amount}</source>
        <translation>银行卡 {amount}</translation>
    </message>
    <message>
        <location filename="../features/cashier/screens_patient.py" line="285"/>
        <source>Charge the amount on the POS terminal, then type the reference number printed on its slip.</source>
        <translation>请在POS机上刷卡收款，然后输入签购单上的参考号。</translation>
    </message>
    <message>
        <location filename="../features/cashier/screens_patient.py" line="288"/>
        <source>Card paid</source>
        <translation>已刷卡</translation>
    </message>
</context>
<context>
    <name>CashScreen</name>
    <message>
        <location filename="../features/cashier/screens_patient.py" line="251"/>
        <source>Cash</source>
        <translation>现金</translation>
    </message>
    <message>
        <location filename="../features/cashier/screens_patient.py" line="252"/>
        <source>Due: {amount}. Amount tendered:</source>
        <translation>应收 {amount}，实收：</translation>
    </message>
    <message>
        <location filename="../features/cashier/screens_patient.py" line="256"/>
        <source>Change: {amount}</source>
        <translation>找零：{amount}</translation>
    </message>
    <message>
        <location filename="../features/cashier/screens_patient.py" line="256"/>
        <source>Not enough</source>
        <translation>实收不足</translation>
    </message>
    <message>
        <location filename="../features/cashier/screens_patient.py" line="258"/>
        <source>Exact amount</source>
        <translation>正好</translation>
    </message>
    <message>
        <location filename="../features/cashier/screens_patient.py" line="259"/>
        <source>Cash received</source>
        <translation>确认收款</translation>
    </message>
</context>
<context>
    <name>CashierIdentifyScreen</name>
    <message>
        <location filename="../features/cashier/screens_patient.py" line="65"/>
        <source>{name} ({no}) — shift since {time}</source>
        <translation>{name}（{no}）— {time} 开班</translation>
    </message>
    <message>
        <location filename="../features/cashier/screens_patient.py" line="71"/>
        <source>Next patient</source>
        <translation>下一位患者</translation>
    </message>
    <message>
        <location filename="../features/cashier/screens_patient.py" line="74"/>
        <source>Place the patient&apos;s ID or social-security card on the reader, scan the visit-card QR or insurance e-voucher, or type the visit-card number.</source>
        <translation>请将患者的身份证或社保卡放在读卡器上，扫描就诊卡二维码或医保电子凭证，或输入就诊卡号。</translation>
    </message>
    <message>
        <location filename="../features/cashier/screens_patient.py" line="79"/>
        <source>Find</source>
        <translation>查找</translation>
    </message>
    <message>
        <location filename="../features/cashier/screens_patient.py" line="81"/>
        <source>Looking up the patient…</source>
        <translation>正在查找患者…</translation>
    </message>
    <message>
        <location filename="../features/cashier/screens_patient.py" line="83"/>
        <source>Lock the window</source>
        <translation>锁定窗口</translation>
    </message>
    <message>
        <location filename="../features/cashier/screens_patient.py" line="84"/>
        <source>End of shift</source>
        <translation>交班</translation>
    </message>
</context>
<context>
    <name>CashierScreen</name>
    <message>
        <location filename="../features/cashier/screens_staff.py" line="49"/>
        <source>Payment code</source>
        <translation>付款码</translation>
    </message>
    <message>
        <location filename="../features/cashier/screens_staff.py" line="50"/>
        <source>WeChat Pay</source>
        <translation>微信支付</translation>
    </message>
    <message>
        <location filename="../features/cashier/screens_staff.py" line="51"/>
        <source>Alipay</source>
        <translation>支付宝</translation>
    </message>
    <message>
        <location filename="../features/cashier/screens_staff.py" line="52"/>
        <source>Cash</source>
        <translation>现金</translation>
    </message>
    <message>
        <location filename="../features/cashier/screens_staff.py" line="53"/>
        <source>Bank card</source>
        <translation>银行卡</translation>
    </message>
    <message>
        <location filename="../features/cashier/screens_staff.py" line="58"/>
        <source>Counted here, not recorded by the server</source>
        <translation>本机有记录，中心无记录</translation>
    </message>
    <message>
        <location filename="../features/cashier/screens_staff.py" line="59"/>
        <source>Recorded by the server, not counted here</source>
        <translation>中心有记录，本机无记录</translation>
    </message>
    <message>
        <location filename="../features/cashier/screens_staff.py" line="60"/>
        <source>Amounts differ</source>
        <translation>金额不符</translation>
    </message>
    <message>
        <location filename="../features/cashier/screens_staff.py" line="61"/>
        <source>Payment methods differ</source>
        <translation>支付方式不符</translation>
    </message>
    <message>
        <location filename="../features/cashier/screens_staff.py" line="62"/>
        <source>Outcomes differ</source>
        <translation>结果不符</translation>
    </message>
    <message>
        <location filename="../features/cashier/screens_staff.py" line="63"/>
        <source>Payment record missing</source>
        <translation>缺少支付记录</translation>
    </message>
    <message>
        <location filename="../features/cashier/screens_staff.py" line="64"/>
        <source>Payment amount differs</source>
        <translation>支付金额不符</translation>
    </message>
    <message>
        <location filename="../features/cashier/screens_staff.py" line="65"/>
        <source>Not settled yet</source>
        <translation>尚未完结</translation>
    </message>
    <message>
        <location filename="../features/cashier/screens_staff.py" line="69"/>
        <source>{n} × {amount}</source>
        <translation>{n} 笔 {amount}</translation>
    </message>
    <message>
        <location filename="../features/cashier/screens_staff.py" line="72"/>
        <source>Cashier</source>
        <translation>收费员</translation>
    </message>
    <message>
        <location filename="../features/cashier/screens_staff.py" line="78"/>
        <source>Refunds</source>
        <translation>退费</translation>
    </message>
    <message>
        <location filename="../features/cashier/screens_staff.py" line="79"/>
        <source>Transactions</source>
        <translation>交易笔数</translation>
    </message>
    <message>
        <location filename="../features/cashier/screens_staff.py" line="80"/>
        <source>Net taken</source>
        <translation>净收</translation>
    </message>
    <message>
        <location filename="../features/cashier/screens_staff.py" line="81"/>
        <source>Cash expected</source>
        <translation>现金应有</translation>
    </message>
    <message>
        <location filename="../features/cashier/screens_staff.py" line="86"/>
        <source>Cash counted</source>
        <translation>现金实点</translation>
    </message>
</context>
<context>
    <name>CheckinConfirmScreen</name>
    <message>
        <location filename="../features/checkin/screens.py" line="111"/>
        <source>Check in for this visit</source>
        <translation>确认取号</translation>
    </message>
    <message>
        <location filename="../features/checkin/screens.py" line="115"/>
        <source>Paid when booked</source>
        <translation>预约时已支付</translation>
    </message>
    <message>
        <location filename="../features/checkin/screens.py" line="117"/>
        <source>Department</source>
        <translation>科室</translation>
    </message>
    <message>
        <location filename="../features/checkin/screens.py" line="117"/>
        <source>Doctor</source>
        <translation>医生</translation>
    </message>
    <message>
        <location filename="../features/checkin/screens.py" line="117"/>
        <source>Time</source>
        <translation>就诊时间</translation>
    </message>
    <message>
        <location filename="../features/checkin/screens.py" line="118"/>
        <source>Fee</source>
        <translation>挂号费</translation>
    </message>
    <message>
        <location filename="../features/checkin/screens.py" line="118"/>
        <source>Patient</source>
        <translation>患者</translation>
    </message>
    <message>
        <location filename="../features/checkin/screens.py" line="124"/>
        <source>Check in and pay {fee}</source>
        <translation>取号并支付 {fee}</translation>
    </message>
    <message>
        <location filename="../features/checkin/screens.py" line="126"/>
        <source>Check in</source>
        <translation>取号</translation>
    </message>
</context>
<context>
    <name>CheckinDoneScreen</name>
    <message>
        <location filename="../features/checkin/screens.py" line="176"/>
        <source>Check-in complete</source>
        <translation>取号完成</translation>
    </message>
    <message>
        <location filename="../features/checkin/screens.py" line="178"/>
        <source>Checked in: please pay at the cashier window</source>
        <translation>已取号：请到收费窗口缴费</translation>
    </message>
    <message>
        <location filename="../features/checkin/screens.py" line="180"/>
        <source>Checked in: payment not confirmed yet</source>
        <translation>已取号：支付结果尚未确认</translation>
    </message>
    <message>
        <location filename="../features/checkin/screens.py" line="184"/>
        <source>Your queue number</source>
        <translation>您的候诊序号</translation>
    </message>
    <message>
        <location filename="../features/checkin/screens.py" line="189"/>
        <source>Paid</source>
        <translation>已支付</translation>
    </message>
    <message>
        <location filename="../features/checkin/screens.py" line="189"/>
        <source>Fee (not paid yet)</source>
        <translation>挂号费（未支付）</translation>
    </message>
    <message>
        <location filename="../features/checkin/screens.py" line="190"/>
        <source>Department</source>
        <translation>科室</translation>
    </message>
    <message>
        <location filename="../features/checkin/screens.py" line="190"/>
        <source>Doctor</source>
        <translation>医生</translation>
    </message>
    <message>
        <location filename="../features/checkin/screens.py" line="190"/>
        <source>Time</source>
        <translation>就诊时间</translation>
    </message>
    <message>
        <location filename="../features/checkin/screens.py" line="196"/>
        <source>Printing your slip…</source>
        <translation>正在打印凭条…</translation>
    </message>
    <message>
        <location filename="../features/checkin/screens.py" line="197"/>
        <source>Please take your slip from the slot below.</source>
        <translation>请从下方出纸口取走凭条。</translation>
    </message>
    <message>
        <location filename="../features/checkin/screens.py" line="198"/>
        <source>The slip could not be printed. You are checked in all the same.</source>
        <translation>凭条未能打印，但您已取号成功。</translation>
    </message>
    <message>
        <location filename="../features/checkin/screens.py" line="199"/>
        <source>Try printing the slip again</source>
        <translation>重新打印凭条</translation>
    </message>
    <message>
        <location filename="../features/checkin/screens.py" line="202"/>
        <source>Done</source>
        <translation>完成</translation>
    </message>
</context>
<context>
    <name>CheckinListScreen</name>
    <message>
        <location filename="../features/checkin/screens.py" line="54"/>
        <source>Paid when booked</source>
        <translation>预约时已支付</translation>
    </message>
    <message>
        <location filename="../features/checkin/screens.py" line="56"/>
        <source>Touch to check in</source>
        <translation>点击取号</translation>
    </message>
    <message>
        <location filename="../features/checkin/screens.py" line="57"/>
        <source>Check-in opens at {time}</source>
        <translation>{time} 起可取号</translation>
    </message>
    <message>
        <location filename="../features/checkin/screens.py" line="58"/>
        <source>Check-in closed at {time}</source>
        <translation>取号已于 {time} 截止</translation>
    </message>
    <message>
        <location filename="../features/checkin/screens.py" line="59"/>
        <source>Cancelled</source>
        <translation>已取消</translation>
    </message>
    <message>
        <location filename="../features/checkin/screens.py" line="59"/>
        <source>Missed</source>
        <translation>已爽约</translation>
    </message>
    <message>
        <location filename="../features/checkin/screens.py" line="63"/>
        <source>Checked in, number {n} ✓</source>
        <translation>已取号，{n}号 ✓</translation>
    </message>
    <message>
        <location filename="../features/checkin/screens.py" line="65"/>
        <source>Checked in, not paid: touch to pay</source>
        <translation>已取号，挂号费未付：点击支付</translation>
    </message>
    <message>
        <location filename="../features/checkin/screens.py" line="76"/>
        <source>Your visits today</source>
        <translation>您今天的预约</translation>
    </message>
    <message>
        <location filename="../features/checkin/screens.py" line="77"/>
        <source>Patient: {name}</source>
        <translation>患者：{name}</translation>
    </message>
    <message>
        <location filename="../features/checkin/screens.py" line="78"/>
        <source>Previous</source>
        <translation>上一页</translation>
    </message>
    <message>
        <location filename="../features/checkin/screens.py" line="79"/>
        <source>Next</source>
        <translation>下一页</translation>
    </message>
    <message>
        <location filename="../features/checkin/screens.py" line="80"/>
        <source>Page {page} of {pages}</source>
        <translation>第 {page} / {pages} 页</translation>
    </message>
</context>
<context>
    <name>CheckinPayScreen</name>
    <message>
        <location filename="../features/checkin/screens.py" line="149"/>
        <source>Pay the registration fee</source>
        <translation>支付挂号费</translation>
    </message>
    <message>
        <location filename="../features/checkin/screens.py" line="142"/>
        <source>You are checked in: number {n}</source>
        <translation>已取号：{n}号</translation>
    </message>
</context>
<context>
    <name>ClosedScreen</name>
    <message>
        <location filename="../features/cashier/screens_staff.py" line="195"/>
        <source>Shift closed</source>
        <translation>已交班</translation>
    </message>
    <message>
        <location filename="../features/cashier/screens_staff.py" line="201"/>
        <source>Reconciled with the hospital system: no differences.</source>
        <translation>已与医院系统对账：全部一致。</translation>
    </message>
    <message>
        <location filename="../features/cashier/screens_staff.py" line="205"/>
        <source>{n} difference(s) with the hospital system:</source>
        <translation>与医院系统有 {n} 处不符：</translation>
    </message>
    <message>
        <location filename="../features/cashier/screens_staff.py" line="210"/>
        <source>Saved to {path}</source>
        <translation>已保存到 {path}</translation>
    </message>
    <message>
        <location filename="../features/cashier/screens_staff.py" line="213"/>
        <source>Print the report again</source>
        <translation>重新打印报表</translation>
    </message>
    <message>
        <location filename="../features/cashier/screens_staff.py" line="215"/>
        <source>Sign out</source>
        <translation>退出登录</translation>
    </message>
</context>
<context>
    <name>CodePayScreen</name>
    <message>
        <location filename="../screens/code_pay.py" line="58"/>
        <source>Payment in progress. Please keep your phone ready.</source>
        <translation>正在支付，请保持手机在手边。</translation>
    </message>
    <message>
        <location filename="../screens/code_pay.py" line="59"/>
        <source>Please enter your password on your phone if asked.</source>
        <translation>如手机提示，请输入支付密码。</translation>
    </message>
    <message>
        <location filename="../screens/code_pay.py" line="62"/>
        <source>Open the WeChat or Alipay payment code on your phone and hold it under the scanner.</source>
        <translation>请打开手机微信或支付宝付款码，对准下方扫码口。</translation>
    </message>
    <message>
        <location filename="../screens/code_pay.py" line="67"/>
        <source>Waiting for the code…</source>
        <translation>等待扫描付款码…</translation>
    </message>
    <message>
        <location filename="../screens/code_pay.py" line="68"/>
        <source>WeChat: Me → Pay → Money   ·   Alipay: Pay / Receive</source>
        <translation>微信：我 → 服务 → 收付款   ·   支付宝：首页 → 收付款</translation>
    </message>
</context>
<context>
    <name>CodeScreen</name>
    <message>
        <location filename="../features/cashier/screens_patient.py" line="212"/>
        <source>Scan the patient&apos;s payment code</source>
        <translation>请扫描患者的付款码</translation>
    </message>
    <message>
        <location filename="../features/cashier/screens_patient.py" line="214"/>
        <source>WeChat Pay or Alipay: hold the scanner over the code on the patient&apos;s phone.</source>
        <translation>微信或支付宝：将扫码枪对准患者手机上的付款码。</translation>
    </message>
</context>
<context>
    <name>ConfirmScreen</name>
    <message>
        <location filename="../screens/confirm.py" line="44"/>
        <source>Please check your registration</source>
        <translation>请核对挂号信息</translation>
    </message>
    <message>
        <location filename="../screens/confirm.py" line="47"/>
        <source>Patient</source>
        <translation>患者</translation>
    </message>
    <message>
        <location filename="../screens/confirm.py" line="48"/>
        <source>Department</source>
        <translation>科室</translation>
    </message>
    <message>
        <location filename="../screens/confirm.py" line="49"/>
        <source>Doctor</source>
        <translation>医生</translation>
    </message>
    <message>
        <location filename="../screens/confirm.py" line="50"/>
        <source>Title</source>
        <translation>职称</translation>
    </message>
    <message>
        <location filename="../screens/confirm.py" line="51"/>
        <source>Time</source>
        <translation>就诊时间</translation>
    </message>
    <message>
        <location filename="../screens/confirm.py" line="52"/>
        <source>Fee</source>
        <translation>挂号费</translation>
    </message>
    <message>
        <location filename="../screens/confirm.py" line="57"/>
        <source>Registering…</source>
        <translation>正在挂号…</translation>
    </message>
    <message>
        <location filename="../screens/confirm.py" line="57"/>
        <source>Confirm and pay</source>
        <translation>确认并缴费</translation>
    </message>
</context>
<context>
    <name>ConsentScreen</name>
    <message>
        <location filename="../screens/filing/consent.py" line="46"/>
        <source>New patient: {name}</source>
        <translation>新患者：{name}</translation>
    </message>
    <message>
        <location filename="../screens/filing/consent.py" line="45"/>
        <source>Face check: your choice</source>
        <translation>人脸核验：由您选择</translation>
    </message>
    <message>
        <location filename="../screens/filing/consent.py" line="48"/>
        <source>Purpose: to check that you are the holder of this ID card.</source>
        <translation>用途：核对您是否为这张身份证的持有人。</translation>
    </message>
    <message>
        <location filename="../screens/filing/consent.py" line="49"/>
        <source>Your face template stays on this kiosk, encrypted.</source>
        <translation>您的人脸特征加密保存在本机。</translation>
    </message>
    <message>
        <location filename="../screens/filing/consent.py" line="50"/>
        <source>Camera images are deleted at once.</source>
        <translation>拍摄的图像立即删除。</translation>
    </message>
    <message>
        <location filename="../screens/filing/consent.py" line="51"/>
        <source>You can withdraw at the service window at any time.</source>
        <translation>您可随时到服务窗口撤回同意。</translation>
    </message>
    <message>
        <location filename="../screens/filing/consent.py" line="52"/>
        <source>Or choose the staff check: it works just as well.</source>
        <translation>也可选择人工核验，效果相同。</translation>
    </message>
    <message>
        <location filename="../screens/filing/consent.py" line="57"/>
        <source>Preparing the camera…</source>
        <translation>正在准备摄像头…</translation>
    </message>
    <message>
        <location filename="../screens/filing/consent.py" line="57"/>
        <source>Verify with my face</source>
        <translation>同意，刷脸核验</translation>
    </message>
    <message>
        <location filename="../screens/filing/consent.py" line="60"/>
        <source>No face</source>
        <translation>不刷脸</translation>
    </message>
    <message>
        <location filename="../screens/filing/consent.py" line="60"/>
        <source>Staff check at the service window</source>
        <translation>到服务窗口人工核验</translation>
    </message>
</context>
<context>
    <name>DemoPanel</name>
    <message>
        <location filename="../demo_panel.py" line="14"/>
        <source>Demo devices</source>
        <translation>演示设备</translation>
    </message>
    <message>
        <location filename="../demo_panel.py" line="16"/>
        <source>Emulated hardware: these act as the patient would.</source>
        <translation>模拟硬件：以下按钮模拟患者的操作。</translation>
    </message>
    <message>
        <location filename="../demo_panel.py" line="18"/>
        <source>ID card reader</source>
        <translation>身份证阅读器</translation>
    </message>
    <message>
        <location filename="../demo_panel.py" line="21"/>
        <source>Place card: {name}</source>
        <translation>放置身份证：{name}</translation>
    </message>
    <message>
        <location filename="../demo_panel.py" line="24"/>
        <source>Remove card</source>
        <translation>拿走身份证</translation>
    </message>
    <message>
        <location filename="../demo_panel.py" line="25"/>
        <source>Next read: bad checksum</source>
        <translation>下次读卡：校验和错误</translation>
    </message>
    <message>
        <location filename="../demo_panel.py" line="26"/>
        <source>Next read: card pulled away</source>
        <translation>下次读卡：中途拿开卡片</translation>
    </message>
    <message>
        <location filename="../demo_panel.py" line="27"/>
        <source>Unplug the reader</source>
        <translation>拔下身份证阅读器</translation>
    </message>
    <message>
        <location filename="../demo_panel.py" line="28"/>
        <source>Plug the reader back in</source>
        <translation>重新插上身份证阅读器</translation>
    </message>
    <message>
        <location filename="../demo_panel.py" line="33"/>
        <source>Social-security card reader</source>
        <translation>社保卡读卡器</translation>
    </message>
    <message>
        <location filename="../demo_panel.py" line="36"/>
        <source>Insert social-security card</source>
        <translation>插入社保卡</translation>
    </message>
    <message>
        <location filename="../demo_panel.py" line="37"/>
        <source>Take the card out</source>
        <translation>取出卡片</translation>
    </message>
    <message>
        <location filename="../demo_panel.py" line="39"/>
        <source>Next card: not a social-security card</source>
        <translation>下一张卡：非社保卡</translation>
    </message>
    <message>
        <location filename="../demo_panel.py" line="41"/>
        <source>Next card: PIN blocked</source>
        <translation>下一张卡：密码已锁定</translation>
    </message>
    <message>
        <location filename="../demo_panel.py" line="44"/>
        <source>Identity QR codes (scanner)</source>
        <translation>身份二维码（扫码器）</translation>
    </message>
    <message>
        <location filename="../demo_panel.py" line="47"/>
        <source>Visit-card QR: {name}</source>
        <translation>就诊卡二维码：{name}</translation>
    </message>
    <message>
        <location filename="../demo_panel.py" line="49"/>
        <source>Insurance e-voucher: {name}</source>
        <translation>医保电子凭证：{name}</translation>
    </message>
    <message>
        <location filename="../demo_panel.py" line="53"/>
        <source>Payment code scanner</source>
        <translation>付款码扫描器</translation>
    </message>
    <message>
        <location filename="../demo_panel.py" line="56"/>
        <source>WeChat code: pays at once</source>
        <translation>微信付款码：立即支付成功</translation>
    </message>
    <message>
        <location filename="../demo_panel.py" line="57"/>
        <source>WeChat code: asks for the password, then pays</source>
        <translation>微信付款码：需输入密码后支付</translation>
    </message>
    <message>
        <location filename="../demo_panel.py" line="58"/>
        <source>WeChat code: never confirmed (reversed)</source>
        <translation>微信付款码：始终未确认（撤销）</translation>
    </message>
    <message>
        <location filename="../demo_panel.py" line="59"/>
        <source>WeChat code: balance too low</source>
        <translation>微信付款码：余额不足</translation>
    </message>
    <message>
        <location filename="../demo_panel.py" line="60"/>
        <source>WeChat code: answer lost, found by query</source>
        <translation>微信付款码：应答丢失，查询后确认</translation>
    </message>
    <message>
        <location filename="../demo_panel.py" line="61"/>
        <source>Not a payment code</source>
        <translation>非付款码</translation>
    </message>
    <message>
        <location filename="../demo_panel.py" line="67"/>
        <source>Receipt printer</source>
        <translation>凭条打印机</translation>
    </message>
    <message>
        <location filename="../demo_panel.py" line="69"/>
        <source>Paper out</source>
        <translation>缺纸</translation>
    </message>
    <message>
        <location filename="../demo_panel.py" line="70"/>
        <source>Paper refilled</source>
        <translation>已装纸</translation>
    </message>
    <message>
        <location filename="../demo_panel.py" line="71"/>
        <source>Cover open</source>
        <translation>打开纸仓盖</translation>
    </message>
    <message>
        <location filename="../demo_panel.py" line="74"/>
        <source>In front of the camera (first-time filing)</source>
        <translation>摄像头前（新患者建档）</translation>
    </message>
    <message>
        <location filename="../demo_panel.py" line="78"/>
        <source>Look at the camera</source>
        <translation>看摄像头</translation>
    </message>
    <message>
        <location filename="../demo_panel.py" line="79"/>
        <source>Turn head left</source>
        <translation>向左转头</translation>
    </message>
    <message>
        <location filename="../demo_panel.py" line="80"/>
        <source>Turn head right</source>
        <translation>向右转头</translation>
    </message>
    <message>
        <location filename="../demo_panel.py" line="81"/>
        <source>Step away / crowd</source>
        <translation>走开 / 人群</translation>
    </message>
    <message>
        <location filename="../demo_panel.py" line="82"/>
        <source>Two people</source>
        <translation>两个人</translation>
    </message>
    <message>
        <location filename="../demo_panel.py" line="83"/>
        <source>Hold up a photo (attack)</source>
        <translation>举起照片（攻击）</translation>
    </message>
    <message>
        <location filename="../demo_panel.py" line="88"/>
        <source>No face clip beside the project: filing offers the staff check only.</source>
        <translation>项目旁没有人脸视频：建档仅提供人工核验。</translation>
    </message>
    <message>
        <location filename="../demo_panel.py" line="91"/>
        <source>Scanner and camera cables</source>
        <translation>扫码器与摄像头连线</translation>
    </message>
    <message>
        <location filename="../demo_panel.py" line="93"/>
        <source>Unplug the scanner</source>
        <translation>拔下扫码器</translation>
    </message>
    <message>
        <location filename="../demo_panel.py" line="94"/>
        <source>Plug the scanner back in</source>
        <translation>重新插上扫码器</translation>
    </message>
    <message>
        <location filename="../demo_panel.py" line="95"/>
        <source>Unplug the camera</source>
        <translation>拔下摄像头</translation>
    </message>
    <message>
        <location filename="../demo_panel.py" line="96"/>
        <source>Plug the camera back in</source>
        <translation>重新插上摄像头</translation>
    </message>
    <message>
        <location filename="../demo_panel.py" line="99"/>
        <source>Hospital network</source>
        <translation>医院网络</translation>
    </message>
    <message>
        <location filename="../demo_panel.py" line="101"/>
        <source>Cut the network (kiosk goes offline)</source>
        <translation>断开网络（自助机转为离线）</translation>
    </message>
    <message>
        <location filename="../demo_panel.py" line="102"/>
        <source>Restore the network (queued work is sent)</source>
        <translation>恢复网络（发送排队的业务）</translation>
    </message>
    <message>
        <location filename="../demo_panel.py" line="106"/>
        <source>Technician PIN in this demo: {pin} (tap the hospital name five times)</source>
        <translation>本演示的维护密码：{pin}（连续点击医院名称五次进入）</translation>
    </message>
</context>
<context>
    <name>DepartmentScreen</name>
    <message>
        <location filename="../screens/choice.py" line="131"/>
        <source>Choose a department</source>
        <translation>请选择科室</translation>
    </message>
    <message>
        <location filename="../screens/choice.py" line="132"/>
        <source>Patient: {name}</source>
        <translation>患者：{name}</translation>
    </message>
    <message>
        <location filename="../screens/choice.py" line="133"/>
        <source>Previous</source>
        <translation>上一页</translation>
    </message>
    <message>
        <location filename="../screens/choice.py" line="134"/>
        <source>Next</source>
        <translation>下一页</translation>
    </message>
    <message>
        <location filename="../screens/choice.py" line="135"/>
        <source>Page {page} of {pages}</source>
        <translation>第 {page} / {pages} 页</translation>
    </message>
</context>
<context>
    <name>DeviceCard</name>
    <message>
        <location filename="../diagnostics/devices_panel.py" line="124"/>
        <source>No picture</source>
        <translation>无画面</translation>
    </message>
    <message>
        <location filename="../diagnostics/devices_panel.py" line="131"/>
        <source>Live: {fps} fps</source>
        <translation>实时画面：{fps} 帧/秒</translation>
    </message>
    <message>
        <location filename="../diagnostics/devices_panel.py" line="155"/>
        <source>Identity</source>
        <translation>标识</translation>
    </message>
    <message>
        <location filename="../diagnostics/devices_panel.py" line="156"/>
        <source>Reason</source>
        <translation>原因</translation>
    </message>
    <message>
        <location filename="../diagnostics/devices_panel.py" line="157"/>
        <source>Last error</source>
        <translation>最近错误</translation>
    </message>
    <message>
        <location filename="../diagnostics/devices_panel.py" line="158"/>
        <source>Counters</source>
        <translation>计数</translation>
    </message>
    <message>
        <location filename="../diagnostics/devices_panel.py" line="159"/>
        <source>Since</source>
        <translation>状态变更时间</translation>
    </message>
    <message>
        <location filename="../diagnostics/devices_panel.py" line="163"/>
        <source>Self-test</source>
        <translation>自检</translation>
    </message>
    <message>
        <location filename="../diagnostics/devices_panel.py" line="166"/>
        <source>Print test page</source>
        <translation>打印测试页</translation>
    </message>
    <message>
        <location filename="../diagnostics/devices_panel.py" line="185"/>
        <source>Self-test running…</source>
        <translation>正在自检…</translation>
    </message>
    <message>
        <location filename="../diagnostics/devices_panel.py" line="190"/>
        <source>Self-test passed ({s} s)</source>
        <translation>自检通过（{s} 秒）</translation>
    </message>
    <message>
        <location filename="../diagnostics/devices_panel.py" line="192"/>
        <source>Self-test failed: {code}</source>
        <translation>自检失败：{code}</translation>
    </message>
    <message>
        <location filename="../diagnostics/devices_panel.py" line="203"/>
        <source>ID-card reader</source>
        <translation>身份证读卡器</translation>
    </message>
    <message>
        <location filename="../diagnostics/devices_panel.py" line="204"/>
        <source>Insurance card reader</source>
        <translation>社保卡读卡器</translation>
    </message>
    <message>
        <location filename="../diagnostics/devices_panel.py" line="205"/>
        <source>Receipt printer</source>
        <translation>凭条打印机</translation>
    </message>
    <message>
        <location filename="../diagnostics/devices_panel.py" line="206"/>
        <source>Code scanner</source>
        <translation>扫码器</translation>
    </message>
    <message>
        <location filename="../diagnostics/devices_panel.py" line="207"/>
        <source>Camera</source>
        <translation>摄像头</translation>
    </message>
    <message>
        <location filename="../diagnostics/devices_panel.py" line="212"/>
        <source>Unknown</source>
        <translation>未知</translation>
    </message>
    <message>
        <location filename="../diagnostics/devices_panel.py" line="213"/>
        <source>Connecting</source>
        <translation>连接中</translation>
    </message>
    <message>
        <location filename="../diagnostics/devices_panel.py" line="214"/>
        <source>Ready</source>
        <translation>就绪</translation>
    </message>
    <message>
        <location filename="../diagnostics/devices_panel.py" line="215"/>
        <source>Busy</source>
        <translation>忙碌</translation>
    </message>
    <message>
        <location filename="../diagnostics/devices_panel.py" line="216"/>
        <source>Not connected</source>
        <translation>未连接</translation>
    </message>
    <message>
        <location filename="../diagnostics/devices_panel.py" line="217"/>
        <source>Error</source>
        <translation>故障</translation>
    </message>
</context>
<context>
    <name>DevicesPanel</name>
    <message>
        <location filename="../diagnostics/devices_panel.py" line="368"/>
        <source>No devices are configured.</source>
        <translation>未配置任何设备。</translation>
    </message>
    <message>
        <location filename="../diagnostics/devices_panel.py" line="376"/>
        <location filename="../diagnostics/devices_panel.py" line="378"/>
        <source>none yet</source>
        <translation>暂无</translation>
    </message>
    <message>
        <location filename="../diagnostics/devices_panel.py" line="378"/>
        <source>{time}, {n} characters</source>
        <translation>{time}，{n} 个字符</translation>
    </message>
    <message>
        <location filename="../diagnostics/devices_panel.py" line="381"/>
        <source>Live test — last card read: {card} · last scan: {scan} (contents are never shown)</source>
        <translation>实时测试 — 最近读卡：{card} · 最近扫码：{scan}（从不显示内容）</translation>
    </message>
</context>
<context>
    <name>DiagnosticsScreen</name>
    <message>
        <location filename="../diagnostics/screen.py" line="84"/>
        <source>Diagnostics</source>
        <translation>运维诊断</translation>
    </message>
    <message>
        <location filename="../diagnostics/screen.py" line="87"/>
        <source>Kiosk {id} · version {version}</source>
        <translation>终端 {id} · 版本 {version}</translation>
    </message>
    <message>
        <location filename="../diagnostics/screen.py" line="90"/>
        <source>Devices</source>
        <translation>设备</translation>
    </message>
    <message>
        <location filename="../diagnostics/screen.py" line="91"/>
        <source>Log</source>
        <translation>日志</translation>
    </message>
    <message>
        <location filename="../diagnostics/screen.py" line="92"/>
        <source>Report</source>
        <translation>报告</translation>
    </message>
    <message>
        <location filename="../diagnostics/screen.py" line="93"/>
        <source>Settings</source>
        <translation>设置</translation>
    </message>
    <message>
        <location filename="../diagnostics/screen.py" line="97"/>
        <source>Exit</source>
        <translation>退出</translation>
    </message>
</context>
<context>
    <name>DoctorScreen</name>
    <message>
        <location filename="../screens/choice.py" line="150"/>
        <source>{n} places left</source>
        <translation>余号 {n} 个</translation>
    </message>
    <message>
        <location filename="../screens/choice.py" line="150"/>
        <source>Fully booked</source>
        <translation>已约满</translation>
    </message>
    <message>
        <location filename="../screens/choice.py" line="159"/>
        <source>Choose a doctor</source>
        <translation>请选择医生</translation>
    </message>
    <message>
        <location filename="../screens/choice.py" line="160"/>
        <source>Department: {dept} · today</source>
        <translation>科室：{dept} · 今日</translation>
    </message>
    <message>
        <location filename="../screens/choice.py" line="161"/>
        <source>Previous</source>
        <translation>上一页</translation>
    </message>
    <message>
        <location filename="../screens/choice.py" line="162"/>
        <source>Next</source>
        <translation>下一页</translation>
    </message>
    <message>
        <location filename="../screens/choice.py" line="163"/>
        <source>Page {page} of {pages}</source>
        <translation>第 {page} / {pages} 页</translation>
    </message>
</context>
<context>
    <name>FaceFailedScreen</name>
    <message>
        <location filename="../screens/filing/outcome.py" line="34"/>
        <source>Your face could not be verified</source>
        <translation>人脸核验未通过</translation>
    </message>
    <message>
        <location filename="../screens/filing/outcome.py" line="38"/>
        <source>You can try again ({n} left), or the staff check your ID card at the service window.</source>
        <translation>您可以再试一次（还剩 {n} 次），或到服务窗口由工作人员核验身份证。</translation>
    </message>
    <message>
        <location filename="../screens/filing/outcome.py" line="44"/>
        <source>Please continue without the face check: the staff check your ID card at the service window.</source>
        <translation>请改用人工核验：工作人员将在服务窗口核验您的身份证。</translation>
    </message>
    <message>
        <location filename="../screens/filing/outcome.py" line="46"/>
        <source>Try again</source>
        <translation>再试一次</translation>
    </message>
    <message>
        <location filename="../screens/filing/outcome.py" line="48"/>
        <source>No face</source>
        <translation>不刷脸</translation>
    </message>
    <message>
        <location filename="../screens/filing/outcome.py" line="48"/>
        <source>Staff check at the service window</source>
        <translation>到服务窗口人工核验</translation>
    </message>
</context>
<context>
    <name>FaceIdentifyScreen</name>
    <message>
        <location filename="../features/face_screen.py" line="78"/>
        <source>Identify by face</source>
        <translation>刷脸识别</translation>
    </message>
    <message>
        <location filename="../features/face_screen.py" line="79"/>
        <source>First, the last four digits of the mobile number you gave when you filed.</source>
        <translation>请先输入建档时登记的手机号码后四位。</translation>
    </message>
    <message>
        <location filename="../features/face_screen.py" line="84"/>
        <source>Next</source>
        <translation>下一步</translation>
    </message>
    <message>
        <location filename="../features/face_screen.py" line="91"/>
        <source>Finding your record…</source>
        <translation>正在查找您的档案…</translation>
    </message>
    <message>
        <location filename="../features/face_screen.py" line="92"/>
        <source>Please wait a moment.</source>
        <translation>请稍候。</translation>
    </message>
    <message>
        <location filename="../features/face_screen.py" line="94"/>
        <source>Follow the instruction</source>
        <translation>请按提示做动作</translation>
    </message>
    <message>
        <location filename="../features/face_screen.py" line="97"/>
        <source>Look at the camera</source>
        <translation>请看摄像头</translation>
    </message>
    <message>
        <location filename="../features/face_screen.py" line="98"/>
        <source>Starting the camera…</source>
        <translation>正在打开摄像头…</translation>
    </message>
</context>
<context>
    <name>FaceScreen</name>
    <message>
        <location filename="../screens/filing/face.py" line="41"/>
        <source>Attempt {n} of {total}</source>
        <translation>第 {n} 次，共 {total} 次</translation>
    </message>
    <message>
        <location filename="../screens/filing/face.py" line="43"/>
        <source>Follow the instruction</source>
        <translation>请按提示做动作</translation>
    </message>
    <message>
        <location filename="../screens/filing/face.py" line="48"/>
        <source>Step {done} of {total} · {s} s left</source>
        <translation>第 {done}/{total} 步 · 剩余 {s} 秒</translation>
    </message>
    <message>
        <location filename="../screens/filing/face.py" line="55"/>
        <source>Comparing with your ID card photo…</source>
        <translation>正在与身份证照片比对…</translation>
    </message>
    <message>
        <location filename="../screens/filing/face.py" line="56"/>
        <source>Please wait a moment.</source>
        <translation>请稍候。</translation>
    </message>
    <message>
        <location filename="../screens/filing/face.py" line="59"/>
        <location filename="../screens/filing/face.py" line="63"/>
        <source>Look at the camera</source>
        <translation>请看摄像头</translation>
    </message>
    <message>
        <location filename="../screens/filing/face.py" line="64"/>
        <source>Starting the camera…</source>
        <translation>正在打开摄像头…</translation>
    </message>
    <message>
        <location filename="../screens/filing/face.py" line="68"/>
        <source>No face</source>
        <translation>不刷脸</translation>
    </message>
    <message>
        <location filename="../screens/filing/face.py" line="68"/>
        <source>Staff check at the service window</source>
        <translation>到服务窗口人工核验</translation>
    </message>
</context>
<context>
    <name>FeatureIdentifyScreen</name>
    <message>
        <location filename="../features/identify_screen.py" line="33"/>
        <source>Identify yourself</source>
        <translation>请先识别身份</translation>
    </message>
    <message>
        <location filename="../features/identify_screen.py" line="34"/>
        <source>Place your ID card or social-security card on the reader.</source>
        <translation>请将身份证或社保卡放在读卡器上。</translation>
    </message>
    <message>
        <location filename="../features/identify_screen.py" line="35"/>
        <source>Or scan your visit-card QR code or medical-insurance e-voucher below the screen.</source>
        <translation>或在屏幕下方扫描就诊卡二维码或医保电子凭证。</translation>
    </message>
    <message>
        <location filename="../features/identify_screen.py" line="37"/>
        <source>Checking your identity…</source>
        <translation>正在核实身份…</translation>
    </message>
    <message>
        <location filename="../features/identify_screen.py" line="39"/>
        <source>There is no record for you at this hospital yet.</source>
        <translation>您在本院还没有建档。</translation>
    </message>
    <message>
        <location filename="../features/identify_screen.py" line="41"/>
        <source>Waiting for a card or a code…</source>
        <translation>等待读卡或扫码…</translation>
    </message>
    <message>
        <location filename="../features/identify_screen.py" line="44"/>
        <source>New patient: create my record</source>
        <translation>新患者：立即建档</translation>
    </message>
    <message>
        <location filename="../features/identify_screen.py" line="46"/>
        <source>Use my face</source>
        <translation>刷脸识别</translation>
    </message>
    <message>
        <location filename="../features/identify_screen.py" line="46"/>
        <source>With the last four digits of your mobile number</source>
        <translation>需输入手机号码后四位</translation>
    </message>
</context>
<context>
    <name>FilingResultScreen</name>
    <message>
        <location filename="../screens/filing/outcome.py" line="99"/>
        <source>Record pending confirmation</source>
        <translation>建档待确认</translation>
    </message>
    <message>
        <location filename="../screens/filing/outcome.py" line="99"/>
        <source>Your record is ready</source>
        <translation>建档成功</translation>
    </message>
    <message>
        <location filename="../screens/filing/outcome.py" line="100"/>
        <source>Provisional number</source>
        <translation>临时序号</translation>
    </message>
    <message>
        <location filename="../screens/filing/outcome.py" line="100"/>
        <source>Your visit card number</source>
        <translation>您的就诊卡号</translation>
    </message>
    <message>
        <location filename="../screens/filing/outcome.py" line="103"/>
        <source>Face verified</source>
        <translation>人脸核验通过</translation>
    </message>
    <message>
        <location filename="../screens/filing/outcome.py" line="103"/>
        <source>Staff check at the service window</source>
        <translation>到服务窗口人工核验</translation>
    </message>
    <message>
        <location filename="../screens/filing/outcome.py" line="106"/>
        <source>Patient</source>
        <translation>患者</translation>
    </message>
    <message>
        <location filename="../screens/filing/outcome.py" line="107"/>
        <source>Identity check</source>
        <translation>身份核验</translation>
    </message>
    <message>
        <location filename="../screens/filing/outcome.py" line="115"/>
        <source>Printing your slip…</source>
        <translation>正在打印凭条…</translation>
    </message>
    <message>
        <location filename="../screens/filing/outcome.py" line="116"/>
        <source>Please take your slip from the slot below.</source>
        <translation>请从下方出纸口取走凭条。</translation>
    </message>
    <message>
        <location filename="../screens/filing/outcome.py" line="117"/>
        <source>The slip could not be printed. Your record is kept.</source>
        <translation>凭条未能打印，您的档案已保存。</translation>
    </message>
    <message>
        <location filename="../screens/filing/outcome.py" line="118"/>
        <source>Try printing the slip again</source>
        <translation>重新打印凭条</translation>
    </message>
    <message>
        <location filename="../screens/filing/outcome.py" line="121"/>
        <source>Finish</source>
        <translation>完成</translation>
    </message>
</context>
<context>
    <name>HomeScreen</name>
    <message>
        <location filename="../screens/home.py" line="116"/>
        <source>Welcome</source>
        <translation>欢迎使用自助服务</translation>
    </message>
    <message>
        <location filename="../screens/home.py" line="117"/>
        <source>Please choose a service</source>
        <translation>请选择您要办理的业务</translation>
    </message>
    <message>
        <location filename="../screens/home.py" line="118"/>
        <source>Registration</source>
        <translation>挂号</translation>
    </message>
    <message>
        <location filename="../screens/home.py" line="118"/>
        <source>Book a doctor for today</source>
        <translation>预约今日门诊医生</translation>
    </message>
    <message>
        <location filename="../screens/home.py" line="119"/>
        <source>coming soon</source>
        <translation>即将开放</translation>
    </message>
    <message>
        <location filename="../screens/home.py" line="120"/>
        <source>First visit: create your record</source>
        <translation>首次就诊，建立档案</translation>
    </message>
    <message>
        <location filename="../screens/home.py" line="123"/>
        <source>Pay bills</source>
        <translation>门诊缴费</translation>
    </message>
    <message>
        <location filename="../screens/home.py" line="123"/>
        <source>Print reports</source>
        <translation>报告打印</translation>
    </message>
    <message>
        <location filename="../screens/home.py" line="120"/>
        <source>New patient</source>
        <translation>新患者建档</translation>
    </message>
    <message>
        <location filename="../screens/home.py" line="126"/>
        <source>Touch a service to begin. Your data is cleared when you finish.</source>
        <translation>点击业务开始办理。办理结束后，您的信息将被清除。</translation>
    </message>
</context>
<context>
    <name>IdentifyScreen</name>
    <message>
        <location filename="../screens/identify.py" line="67"/>
        <source>Identify yourself</source>
        <translation>身份识别</translation>
    </message>
    <message>
        <location filename="../screens/identify.py" line="67"/>
        <source>New patient: place your ID card</source>
        <translation>新患者建档：请放置身份证</translation>
    </message>
    <message>
        <location filename="../screens/identify.py" line="68"/>
        <source>Please place your resident ID card on the reader below the screen.</source>
        <translation>请将居民身份证放在屏幕下方的读卡区。</translation>
    </message>
    <message>
        <location filename="../screens/identify.py" line="70"/>
        <source>Checking your identity…</source>
        <translation>正在核验身份…</translation>
    </message>
    <message>
        <location filename="../screens/identify.py" line="70"/>
        <source>Checking for an existing record…</source>
        <translation>正在查询是否已建档…</translation>
    </message>
    <message>
        <location filename="../screens/identify.py" line="72"/>
        <source>Waiting for the card…</source>
        <translation>等待放置身份证…</translation>
    </message>
</context>
<context>
    <name>ItemsScreen</name>
    <message>
        <location filename="../features/cashier/screens_patient.py" line="119"/>
        <source>To pay</source>
        <translation>待缴费项目</translation>
    </message>
    <message>
        <location filename="../features/cashier/screens_patient.py" line="126"/>
        <source>(being paid elsewhere)</source>
        <translation>（正在别处缴费）</translation>
    </message>
    <message>
        <location filename="../features/cashier/screens_patient.py" line="130"/>
        <source>Registration {no}: {dept} {date} {start}</source>
        <translation>挂号 {no}：{dept} {date} {start}</translation>
    </message>
    <message>
        <location filename="../features/cashier/screens_patient.py" line="137"/>
        <source>Selected {amount}</source>
        <translation>已选 {amount}</translation>
    </message>
    <message>
        <location filename="../features/cashier/screens_patient.py" line="142"/>
        <source>Refund…</source>
        <translation>退费…</translation>
    </message>
    <message>
        <location filename="../features/cashier/screens_patient.py" line="143"/>
        <source>Settle</source>
        <translation>结算</translation>
    </message>
    <message>
        <location filename="../features/cashier/screens_patient.py" line="138"/>
        <source>Medical insurance card shown: pre-settle with the insurer</source>
        <translation>患者已出示医保卡：按医保预结算</translation>
    </message>
</context>
<context>
    <name>KioskWindow</name>
    <message>
        <location filename="../window.py" line="207"/>
        <source>Large text</source>
        <translation>长者模式</translation>
    </message>
    <message>
        <location filename="../window.py" line="215"/>
        <source>‹ Back</source>
        <translation>‹ 返回</translation>
    </message>
    <message>
        <location filename="../window.py" line="216"/>
        <source>Home</source>
        <translation>首页</translation>
    </message>
    <message>
        <location filename="../window.py" line="325"/>
        <source>Returning to the start in {n} s — touch to continue</source>
        <translation>{n} 秒后返回首页，触摸屏幕继续操作</translation>
    </message>
</context>
<context>
    <name>LogPanel</name>
    <message>
        <location filename="../diagnostics/log_panel.py" line="133"/>
        <source>Level:</source>
        <translation>级别：</translation>
    </message>
    <message>
        <location filename="../diagnostics/log_panel.py" line="134"/>
        <source>Reload</source>
        <translation>刷新</translation>
    </message>
    <message>
        <location filename="../diagnostics/log_panel.py" line="137"/>
        <source>Reading the log…</source>
        <translation>正在读取日志…</translation>
    </message>
    <message>
        <location filename="../diagnostics/log_panel.py" line="139"/>
        <source>The log file could not be read: {path}</source>
        <translation>无法读取日志文件：{path}</translation>
    </message>
    <message>
        <location filename="../diagnostics/log_panel.py" line="143"/>
        <source>There is no log file yet: {path}</source>
        <translation>尚无日志文件：{path}</translation>
    </message>
    <message>
        <location filename="../diagnostics/log_panel.py" line="145"/>
        <source>{n} lines at {level} or above, newest last · {path}</source>
        <translation>{level} 及以上级别共 {n} 行，最新的在最后 · {path}</translation>
    </message>
</context>
<context>
    <name>PaidScreen</name>
    <message>
        <location filename="../features/cashier/screens_patient.py" line="330"/>
        <source>Paid</source>
        <translation>收费成功</translation>
    </message>
    <message>
        <location filename="../features/cashier/screens_patient.py" line="330"/>
        <source>Not confirmed yet</source>
        <translation>尚未确认</translation>
    </message>
    <message>
        <location filename="../features/cashier/screens_patient.py" line="333"/>
        <source>Patient pays</source>
        <translation>个人支付</translation>
    </message>
    <message>
        <location filename="../features/cashier/screens_patient.py" line="333"/>
        <source>Paid by</source>
        <translation>支付方式</translation>
    </message>
    <message>
        <location filename="../features/cashier/screens_patient.py" line="335"/>
        <source>Tendered</source>
        <translation>实收</translation>
    </message>
    <message>
        <location filename="../features/cashier/screens_patient.py" line="335"/>
        <source>Change</source>
        <translation>找零</translation>
    </message>
    <message>
        <location filename="../features/cashier/screens_patient.py" line="337"/>
        <source>POS reference</source>
        <translation>POS参考号</translation>
    </message>
    <message>
        <location filename="../features/cashier/screens_patient.py" line="341"/>
        <source>Printing the receipt…</source>
        <translation>正在打印凭条…</translation>
    </message>
    <message>
        <location filename="../features/cashier/screens_patient.py" line="342"/>
        <source>Hand the receipt to the patient.</source>
        <translation>请将凭条交给患者。</translation>
    </message>
    <message>
        <location filename="../features/cashier/screens_patient.py" line="343"/>
        <source>The receipt did not print. The payment is recorded.</source>
        <translation>凭条未能打印，收费已记录。</translation>
    </message>
    <message>
        <location filename="../features/cashier/screens_patient.py" line="344"/>
        <source>Print the receipt again</source>
        <translation>重新打印凭条</translation>
    </message>
    <message>
        <location filename="../features/cashier/screens_patient.py" line="347"/>
        <source>Next patient</source>
        <translation>下一位患者</translation>
    </message>
</context>
<context>
    <name>PatientLine</name>
    <message>
        <location filename="../features/cashier/screens_patient.py" line="26"/>
        <source>Visit card {n}</source>
        <translation>就诊卡 {n}</translation>
    </message>
</context>
<context>
    <name>PayCodeScreen</name>
    <message>
        <location filename="../features/bills/screens.py" line="237"/>
        <source>Pay by payment code</source>
        <translation>付款码支付</translation>
    </message>
</context>
<context>
    <name>PayScreen</name>
    <message>
        <location filename="../screens/pay.py" line="26"/>
        <source>Pay the registration fee</source>
        <translation>支付挂号费</translation>
    </message>
</context>
<context>
    <name>PayingScreen</name>
    <message>
        <location filename="../features/cashier/screens_patient.py" line="303"/>
        <source>Recording the payment…</source>
        <translation>正在记录收费…</translation>
    </message>
</context>
<context>
    <name>PhoneScreen</name>
    <message>
        <location filename="../screens/filing/phone.py" line="62"/>
        <source>✓ Face verified</source>
        <translation>✓ 人脸核验通过</translation>
    </message>
    <message>
        <location filename="../screens/filing/phone.py" line="59"/>
        <source>Your mobile number</source>
        <translation>请输入手机号码</translation>
    </message>
    <message>
        <location filename="../screens/filing/phone.py" line="60"/>
        <source>11 digits, for appointment messages.</source>
        <translation>11 位数字，用于就诊通知。</translation>
    </message>
    <message>
        <location filename="../screens/filing/phone.py" line="64"/>
        <source>Staff check at the service window</source>
        <translation>到服务窗口人工核验</translation>
    </message>
    <message>
        <location filename="../screens/filing/phone.py" line="72"/>
        <source>Delete</source>
        <translation>删除</translation>
    </message>
    <message>
        <location filename="../screens/filing/phone.py" line="74"/>
        <source>Confirm</source>
        <translation>确认</translation>
    </message>
</context>
<context>
    <name>PinPad</name>
    <message>
        <location filename="../diagnostics/pinpad.py" line="140"/>
        <source>Enter {min} to {max} digits.</source>
        <translation>请输入 {min} 至 {max} 位数字。</translation>
    </message>
    <message>
        <location filename="../diagnostics/pinpad.py" line="146"/>
        <source>Checking…</source>
        <translation>正在验证…</translation>
    </message>
    <message>
        <location filename="../diagnostics/pinpad.py" line="167"/>
        <source>Checking the staff card…</source>
        <translation>正在核验工作人员证件…</translation>
    </message>
    <message>
        <location filename="../diagnostics/pinpad.py" line="180"/>
        <source>This card is not authorised for technician access.</source>
        <translation>该证件未授权进入运维诊断。</translation>
    </message>
    <message>
        <location filename="../diagnostics/pinpad.py" line="196"/>
        <source>No technician PIN is set in this kiosk&apos;s configuration.</source>
        <translation>本机配置中未设置维护密码。</translation>
    </message>
    <message>
        <location filename="../diagnostics/pinpad.py" line="199"/>
        <source>Locked after too many wrong PINs. Try again in {n} min.</source>
        <translation>密码错误过多，已锁定，{n} 分钟后再试</translation>
    </message>
    <message>
        <location filename="../diagnostics/pinpad.py" line="209"/>
        <source>Technician access</source>
        <translation>维护人员登录</translation>
    </message>
    <message>
        <location filename="../diagnostics/pinpad.py" line="210"/>
        <source>Enter the technician PIN</source>
        <translation>请输入维护密码</translation>
    </message>
    <message>
        <location filename="../diagnostics/pinpad.py" line="212"/>
        <source>or place your staff ID card on the reader</source>
        <translation>或将工作人员身份证放在读卡区</translation>
    </message>
    <message>
        <location filename="../diagnostics/pinpad.py" line="214"/>
        <source>Clear</source>
        <translation>清除</translation>
    </message>
    <message>
        <location filename="../diagnostics/pinpad.py" line="215"/>
        <source>OK</source>
        <translation>确定</translation>
    </message>
    <message>
        <location filename="../diagnostics/pinpad.py" line="216"/>
        <source>Cancel</source>
        <translation>取消</translation>
    </message>
    <message>
        <location filename="../diagnostics/pinpad.py" line="239"/>
        <source>The PIN could not be checked. Please try again.</source>
        <translation>无法验证密码，请重试。</translation>
    </message>
    <message>
        <location filename="../diagnostics/pinpad.py" line="257"/>
        <source>Wrong PIN. Tries left before the lock-out: {n}</source>
        <translation>密码错误。锁定前还可尝试 {n} 次</translation>
    </message>
</context>
<context>
    <name>PresettleScreen</name>
    <message>
        <location filename="../features/bills/screens.py" line="205"/>
        <source>Amount to pay</source>
        <translation>应付金额</translation>
    </message>
    <message>
        <location filename="../features/bills/screens.py" line="218"/>
        <source>These items are held for you until {time}.</source>
        <translation>以上项目已为您保留至 {time}。</translation>
    </message>
    <message>
        <location filename="../features/bills/screens.py" line="221"/>
        <source>Scan my payment code</source>
        <translation>扫我的付款码</translation>
    </message>
    <message>
        <location filename="../features/bills/screens.py" line="222"/>
        <source>Show a WeChat QR code</source>
        <translation>微信扫码支付</translation>
    </message>
    <message>
        <location filename="../features/bills/screens.py" line="223"/>
        <source>Show an Alipay QR code</source>
        <translation>支付宝扫码支付</translation>
    </message>
    <message>
        <location filename="../features/bills/screens.py" line="224"/>
        <source>Pay from my prepaid account</source>
        <translation>使用预交金支付</translation>
    </message>
</context>
<context>
    <name>PrintingScreen</name>
    <message>
        <location filename="../features/reports/screens.py" line="135"/>
        <source>Printing your report…</source>
        <translation>正在打印您的报告…</translation>
    </message>
    <message>
        <location filename="../features/reports/screens.py" line="138"/>
        <source>Please wait, then take the report from the slot below the screen.</source>
        <translation>请稍候，然后从屏幕下方的出纸口取走报告。</translation>
    </message>
</context>
<context>
    <name>QrScreen</name>
    <message>
        <location filename="../features/bills/screens.py" line="274"/>
        <source>Scan with WeChat</source>
        <translation>请用微信扫码支付</translation>
    </message>
    <message>
        <location filename="../features/bills/screens.py" line="274"/>
        <source>Scan with Alipay</source>
        <translation>请用支付宝扫码支付</translation>
    </message>
    <message>
        <location filename="../features/bills/screens.py" line="282"/>
        <source>Making your QR code…</source>
        <translation>正在生成二维码…</translation>
    </message>
    <message>
        <location filename="../features/bills/screens.py" line="284"/>
        <source>Scanned. Please confirm the payment on your phone.</source>
        <translation>已扫码，请在手机上确认支付。</translation>
    </message>
    <message>
        <location filename="../features/bills/screens.py" line="286"/>
        <source>Cancelling…</source>
        <translation>正在取消…</translation>
    </message>
    <message>
        <location filename="../features/bills/screens.py" line="288"/>
        <source>Open WeChat or Alipay, tap Scan, and point the phone at this code.</source>
        <translation>请打开微信或支付宝，点击“扫一扫”，对准此二维码。</translation>
    </message>
    <message>
        <location filename="../features/bills/screens.py" line="299"/>
        <source>Cancel</source>
        <translation>取消</translation>
    </message>
    <message>
        <location filename="../features/bills/screens.py" line="321"/>
        <source>Time left: {m}:{s:02d}</source>
        <translation>剩余时间：{m}:{s:02d}</translation>
    </message>
    <message>
        <location filename="../features/bills/screens.py" line="321"/>
        <source>Time is up</source>
        <translation>时间已到</translation>
    </message>
</context>
<context>
    <name>ReasonScreen</name>
    <message>
        <location filename="../features/reports/screens.py" line="107"/>
        <source>This report was printed before</source>
        <translation>该报告已打印过</translation>
    </message>
    <message>
        <location filename="../features/reports/screens.py" line="110"/>
        <source>Why do you need another copy?</source>
        <translation>请问您为什么需要再打印一份？</translation>
    </message>
    <message>
        <location filename="../features/reports/screens.py" line="112"/>
        <source>I lost my copy</source>
        <translation>报告遗失</translation>
    </message>
    <message>
        <location filename="../features/reports/screens.py" line="113"/>
        <source>My copy is damaged</source>
        <translation>报告损坏或看不清</translation>
    </message>
    <message>
        <location filename="../features/reports/screens.py" line="114"/>
        <source>I need a copy for another doctor</source>
        <translation>需要给其他医生看（转诊）</translation>
    </message>
</context>
<context>
    <name>RefundChannel</name>
    <message>
        <location filename="../features/refund/screens.py" line="38"/>
        <source>WeChat Pay (the account that paid)</source>
        <translation>微信支付（原路退回）</translation>
    </message>
    <message>
        <location filename="../features/refund/screens.py" line="40"/>
        <source>Alipay (the account that paid)</source>
        <translation>支付宝（原路退回）</translation>
    </message>
    <message>
        <location filename="../features/refund/screens.py" line="41"/>
        <source>The account that paid</source>
        <translation>原支付账户</translation>
    </message>
</context>
<context>
    <name>RefundConfirmScreen</name>
    <message>
        <location filename="../features/refund/screens.py" line="101"/>
        <source>Cancel this registration?</source>
        <translation>确认退号？</translation>
    </message>
    <message>
        <location filename="../features/refund/screens.py" line="106"/>
        <source>Patient</source>
        <translation>患者</translation>
    </message>
    <message>
        <location filename="../features/refund/screens.py" line="107"/>
        <source>Department</source>
        <translation>科室</translation>
    </message>
    <message>
        <location filename="../features/refund/screens.py" line="108"/>
        <source>Doctor</source>
        <translation>医生</translation>
    </message>
    <message>
        <location filename="../features/refund/screens.py" line="109"/>
        <source>Time</source>
        <translation>就诊时间</translation>
    </message>
    <message>
        <location filename="../features/refund/screens.py" line="110"/>
        <source>Refund</source>
        <translation>退款金额</translation>
    </message>
    <message>
        <location filename="../features/refund/screens.py" line="111"/>
        <source>Goes back to</source>
        <translation>退回账户</translation>
    </message>
    <message>
        <location filename="../features/refund/screens.py" line="118"/>
        <source>Your place is given up at once. Cancelling here is possible until {deadline}.</source>
        <translation>退号后号源立即释放。本机可退号截止时间：{deadline}。</translation>
    </message>
    <message>
        <location filename="../features/refund/screens.py" line="122"/>
        <source>Cancel it and refund the fee</source>
        <translation>确认退号并退款</translation>
    </message>
</context>
<context>
    <name>RefundListScreen</name>
    <message>
        <location filename="../features/refund/screens.py" line="62"/>
        <source>Too late here: ask the cashier</source>
        <translation>已过自助退号时间，请到收费窗口</translation>
    </message>
    <message>
        <location filename="../features/refund/screens.py" line="63"/>
        <source>Visit begun: ask the cashier</source>
        <translation>已开始就诊，请到收费窗口</translation>
    </message>
    <message>
        <location filename="../features/refund/screens.py" line="64"/>
        <source>Not here: ask the cashier</source>
        <translation>本机不能退，请到收费窗口</translation>
    </message>
    <message>
        <location filename="../features/refund/screens.py" line="72"/>
        <source>Looking up your registrations…</source>
        <translation>正在查询您的挂号记录…</translation>
    </message>
    <message>
        <location filename="../features/refund/screens.py" line="74"/>
        <source>You have no paid registration from today on.</source>
        <translation>您没有今天及以后的已缴费挂号。</translation>
    </message>
    <message>
        <location filename="../features/refund/screens.py" line="76"/>
        <source>Choose the registration to cancel. The fee goes back to the account that paid.</source>
        <translation>请选择要退的号，挂号费将原路退回支付账户。</translation>
    </message>
    <message>
        <location filename="../features/refund/screens.py" line="78"/>
        <source>Cancel a registration</source>
        <translation>退号</translation>
    </message>
    <message>
        <location filename="../features/refund/screens.py" line="80"/>
        <source>‹ Previous</source>
        <translation>‹ 上一页</translation>
    </message>
    <message>
        <location filename="../features/refund/screens.py" line="81"/>
        <source>Next ›</source>
        <translation>下一页 ›</translation>
    </message>
    <message>
        <location filename="../features/refund/screens.py" line="82"/>
        <source>Page {page} of {pages}</source>
        <translation>第 {page} / {pages} 页</translation>
    </message>
</context>
<context>
    <name>RefundResultScreen</name>
    <message>
        <location filename="../features/refund/screens.py" line="163"/>
        <source>Registration cancelled, fee refunded</source>
        <translation>退号成功，挂号费已退回</translation>
    </message>
    <message>
        <location filename="../features/refund/screens.py" line="164"/>
        <source>Registration cancelled, refund on its way</source>
        <translation>退号成功，退款处理中</translation>
    </message>
    <message>
        <location filename="../features/refund/screens.py" line="165"/>
        <source>Registration cancelled; please collect the refund at the cashier</source>
        <translation>已退号，请到收费窗口办理退款</translation>
    </message>
    <message>
        <location filename="../features/refund/screens.py" line="166"/>
        <source>Registration cancelled; the refund is being confirmed</source>
        <translation>已退号，退款正在确认中</translation>
    </message>
    <message>
        <location filename="../features/refund/screens.py" line="175"/>
        <source>Registration</source>
        <translation>挂号序号</translation>
    </message>
    <message>
        <location filename="../features/refund/screens.py" line="176"/>
        <source>Refund</source>
        <translation>退款金额</translation>
    </message>
    <message>
        <location filename="../features/refund/screens.py" line="177"/>
        <source>Goes back to</source>
        <translation>退回账户</translation>
    </message>
    <message>
        <location filename="../features/refund/screens.py" line="184"/>
        <source>Printing your slip…</source>
        <translation>正在打印凭条…</translation>
    </message>
    <message>
        <location filename="../features/refund/screens.py" line="185"/>
        <source>Please take your slip from the slot below.</source>
        <translation>请从下方出纸口取走凭条。</translation>
    </message>
    <message>
        <location filename="../features/refund/screens.py" line="186"/>
        <source>The slip could not be printed. Your registration is cancelled.</source>
        <translation>凭条未能打印，您的号已退。</translation>
    </message>
    <message>
        <location filename="../features/refund/screens.py" line="187"/>
        <source>Try printing the slip again</source>
        <translation>重新打印凭条</translation>
    </message>
    <message>
        <location filename="../features/refund/screens.py" line="190"/>
        <source>Finish</source>
        <translation>完成</translation>
    </message>
</context>
<context>
    <name>RefundScreen</name>
    <message>
        <location filename="../features/cashier/screens_refund.py" line="62"/>
        <source>Paid twice</source>
        <translation>重复缴费</translation>
    </message>
    <message>
        <location filename="../features/cashier/screens_refund.py" line="63"/>
        <source>Overcharged</source>
        <translation>多收费用</translation>
    </message>
    <message>
        <location filename="../features/cashier/screens_refund.py" line="64"/>
        <source>Cancelled</source>
        <translation>检查或治疗取消</translation>
    </message>
    <message>
        <location filename="../features/cashier/screens_refund.py" line="65"/>
        <source>Patient asks</source>
        <translation>患者要求</translation>
    </message>
    <message>
        <location filename="../features/cashier/screens_refund.py" line="70"/>
        <source>Refund</source>
        <translation>退费</translation>
    </message>
    <message>
        <location filename="../features/cashier/screens_refund.py" line="85"/>
        <source>Refund ¥{amount}</source>
        <translation>退费 ¥{amount}</translation>
    </message>
    <message>
        <location filename="../features/cashier/screens_refund.py" line="97"/>
        <source>POS refund reference (refund on the terminal first): {ref}</source>
        <translation>POS退款参考号（请先在POS机上退款）：{ref}</translation>
    </message>
    <message>
        <location filename="../features/cashier/screens_refund.py" line="100"/>
        <source>Ask a supervisor</source>
        <translation>请主管审批</translation>
    </message>
</context>
<context>
    <name>RefundedScreen</name>
    <message>
        <location filename="../features/cashier/screens_refund.py" line="194"/>
        <source>Refunded</source>
        <translation>退费成功</translation>
    </message>
    <message>
        <location filename="../features/cashier/screens_refund.py" line="195"/>
        <source>Refund on its way</source>
        <translation>退款处理中</translation>
    </message>
    <message>
        <location filename="../features/cashier/screens_refund.py" line="196"/>
        <source>Refund not made</source>
        <translation>退费未成功</translation>
    </message>
    <message>
        <location filename="../features/cashier/screens_refund.py" line="197"/>
        <source>Refund not confirmed yet</source>
        <translation>退费尚未确认</translation>
    </message>
    <message>
        <location filename="../features/cashier/screens_refund.py" line="202"/>
        <source>Hand back {amount} in cash</source>
        <translation>请退还现金 {amount}</translation>
    </message>
    <message>
        <location filename="../features/cashier/screens_refund.py" line="209"/>
        <source>Refund</source>
        <translation>退费金额</translation>
    </message>
    <message>
        <location filename="../features/cashier/screens_refund.py" line="210"/>
        <source>Paid by</source>
        <translation>原支付方式</translation>
    </message>
    <message>
        <location filename="../features/cashier/screens_refund.py" line="211"/>
        <source>Approved by</source>
        <translation>审批主管</translation>
    </message>
    <message>
        <location filename="../features/cashier/screens_refund.py" line="212"/>
        <source>Reason</source>
        <translation>原因</translation>
    </message>
    <message>
        <location filename="../features/cashier/screens_refund.py" line="217"/>
        <source>Printing the refund slip…</source>
        <translation>正在打印退费凭条…</translation>
    </message>
    <message>
        <location filename="../features/cashier/screens_refund.py" line="218"/>
        <source>Hand the refund slip to the patient.</source>
        <translation>请将退费凭条交给患者。</translation>
    </message>
    <message>
        <location filename="../features/cashier/screens_refund.py" line="219"/>
        <source>The refund slip did not print. The refund is recorded.</source>
        <translation>退费凭条未能打印，退费已记录。</translation>
    </message>
    <message>
        <location filename="../features/cashier/screens_refund.py" line="220"/>
        <source>Print the slip again</source>
        <translation>重新打印凭条</translation>
    </message>
    <message>
        <location filename="../features/cashier/screens_refund.py" line="223"/>
        <source>Next patient</source>
        <translation>下一位患者</translation>
    </message>
</context>
<context>
    <name>RefundingScreen</name>
    <message>
        <location filename="../features/refund/screens.py" line="138"/>
        <source>Cancelling and refunding…</source>
        <translation>正在退号退款…</translation>
    </message>
    <message>
        <location filename="../features/refund/screens.py" line="139"/>
        <source>Please wait a moment. Do not leave yet.</source>
        <translation>请稍候，请勿离开。</translation>
    </message>
    <message>
        <location filename="../features/cashier/screens_refund.py" line="165"/>
        <source>Making the refund…</source>
        <translation>正在退费…</translation>
    </message>
</context>
<context>
    <name>ReportListScreen</name>
    <message>
        <location filename="../features/reports/screens.py" line="45"/>
        <source>Print all new reports ({n})</source>
        <translation>打印全部新报告（{n}份）</translation>
    </message>
    <message>
        <location filename="../features/reports/screens.py" line="51"/>
        <source>Lab test</source>
        <translation>检验</translation>
    </message>
    <message>
        <location filename="../features/reports/screens.py" line="51"/>
        <source>Imaging</source>
        <translation>检查</translation>
    </message>
    <message>
        <location filename="../features/reports/screens.py" line="54"/>
        <source>ordered {time}</source>
        <translation>{time} 申请</translation>
    </message>
    <message>
        <location filename="../features/reports/screens.py" line="58"/>
        <source>Not ready yet</source>
        <translation>尚未出报告</translation>
    </message>
    <message>
        <location filename="../features/reports/screens.py" line="60"/>
        <source>Printed ✓ Please take it below</source>
        <translation>已打印 ✓ 请从下方取走</translation>
    </message>
    <message>
        <location filename="../features/reports/screens.py" line="62"/>
        <source>Not printed: touch to try again</source>
        <translation>未打印成功：点击重新打印</translation>
    </message>
    <message>
        <location filename="../features/reports/screens.py" line="64"/>
        <source>Printed before: touch for a copy</source>
        <translation>已打印过：点击补打</translation>
    </message>
    <message>
        <location filename="../features/reports/screens.py" line="66"/>
        <source>Ready: touch to print</source>
        <translation>已出报告：点击打印</translation>
    </message>
    <message>
        <location filename="../features/reports/screens.py" line="75"/>
        <source>Your reports</source>
        <translation>我的报告</translation>
    </message>
    <message>
        <location filename="../features/reports/screens.py" line="76"/>
        <source>Patient: {name}</source>
        <translation>患者：{name}</translation>
    </message>
    <message>
        <location filename="../features/reports/screens.py" line="77"/>
        <source>Previous</source>
        <translation>上一页</translation>
    </message>
    <message>
        <location filename="../features/reports/screens.py" line="78"/>
        <source>Next</source>
        <translation>下一页</translation>
    </message>
    <message>
        <location filename="../features/reports/screens.py" line="79"/>
        <source>Page {page} of {pages}</source>
        <translation>第 {page} / {pages} 页</translation>
    </message>
</context>
<context>
    <name>ReportPanel</name>
    <message>
        <location filename="../diagnostics/report_panel.py" line="111"/>
        <source>Writing the report…</source>
        <translation>正在生成报告…</translation>
    </message>
    <message>
        <location filename="../diagnostics/report_panel.py" line="118"/>
        <source>Device states, software versions, free disk space, the connection to the hospital system and the offline queue, recent transactions by state and recent errors, as JSON and as text. No patient data. Saved to a USB stick if one is plugged in, otherwise on the kiosk.</source>
        <translation>包含设备状态、软件版本、剩余磁盘空间、与医院系统的连接及离线队列、近期交易（按状态统计）和近期错误，生成 JSON 和文本两个文件，不含任何患者信息。插有 U 盘时保存到 U 盘，否则保存在本机。</translation>
    </message>
    <message>
        <location filename="../diagnostics/report_panel.py" line="123"/>
        <source>Export readiness report</source>
        <translation>导出就绪报告</translation>
    </message>
    <message>
        <location filename="../diagnostics/report_panel.py" line="152"/>
        <source>The report could not be saved: {error}</source>
        <translation>报告保存失败：{error}</translation>
    </message>
    <message>
        <location filename="../diagnostics/report_panel.py" line="159"/>
        <source>Saved to the USB stick: {folder}</source>
        <translation>已保存到 U 盘：{folder}</translation>
    </message>
    <message>
        <location filename="../diagnostics/report_panel.py" line="159"/>
        <source>Saved on the kiosk: {folder}</source>
        <translation>已保存在本机：{folder}</translation>
    </message>
    <message>
        <location filename="../diagnostics/report_panel.py" line="160"/>
        <source>All devices are ready.</source>
        <translation>所有设备均已就绪。</translation>
    </message>
    <message>
        <location filename="../diagnostics/report_panel.py" line="160"/>
        <source>Not every device is ready.</source>
        <translation>有设备未就绪。</translation>
    </message>
</context>
<context>
    <name>ReportScreen</name>
    <message>
        <location filename="../features/cashier/screens_staff.py" line="154"/>
        <source>End of shift</source>
        <translation>交班</translation>
    </message>
    <message>
        <location filename="../features/cashier/screens_staff.py" line="158"/>
        <source>Cash counted in the drawer (expected {amount})</source>
        <translation>钱箱现金实点金额（应有 {amount}）</translation>
    </message>
    <message>
        <location filename="../features/cashier/screens_staff.py" line="161"/>
        <source>Close the shift</source>
        <translation>确认交班</translation>
    </message>
</context>
<context>
    <name>ReprintDoneScreen</name>
    <message>
        <location filename="../features/reprint/screens.py" line="106"/>
        <source>Printing a copy…</source>
        <translation>正在补打…</translation>
    </message>
    <message>
        <location filename="../features/reprint/screens.py" line="107"/>
        <source>Please take your copy from the slot below</source>
        <translation>请从下方出纸口取走补打凭条</translation>
    </message>
    <message>
        <location filename="../features/reprint/screens.py" line="108"/>
        <source>The copy could not be printed</source>
        <translation>补打凭条未能打印</translation>
    </message>
    <message>
        <location filename="../features/reprint/screens.py" line="115"/>
        <source>{slip}: copy {n} of {max}, marked REPRINT.</source>
        <translation>{slip}：第 {n} 次补打（共可补打 {max} 次），已标注“补打”。</translation>
    </message>
    <message>
        <location filename="../features/reprint/screens.py" line="122"/>
        <source>Try printing the copy again</source>
        <translation>重新补打</translation>
    </message>
    <message>
        <location filename="../features/reprint/screens.py" line="124"/>
        <source>Finish</source>
        <translation>完成</translation>
    </message>
</context>
<context>
    <name>ReprintListScreen</name>
    <message>
        <location filename="../features/reprint/screens.py" line="60"/>
        <source>No copies left: ask the staff</source>
        <translation>补打次数已满，请找工作人员</translation>
    </message>
    <message>
        <location filename="../features/reprint/screens.py" line="61"/>
        <source>Copies left: {n}</source>
        <translation>还可补打 {n} 次</translation>
    </message>
    <message>
        <location filename="../features/reprint/screens.py" line="69"/>
        <source>Printing a copy…</source>
        <translation>正在补打…</translation>
    </message>
    <message>
        <location filename="../features/reprint/screens.py" line="69"/>
        <source>Looking up your slips…</source>
        <translation>正在查询您的凭条…</translation>
    </message>
    <message>
        <location filename="../features/reprint/screens.py" line="72"/>
        <source>No slip of yours was printed at this kiosk recently.</source>
        <translation>本机近期没有您的打印记录。</translation>
    </message>
    <message>
        <location filename="../features/reprint/screens.py" line="74"/>
        <source>Choose the slip to print again. The copy is marked as a reprint.</source>
        <translation>请选择要补打的凭条，补打凭条将标注“补打”。</translation>
    </message>
    <message>
        <location filename="../features/reprint/screens.py" line="76"/>
        <source>Reprint a receipt</source>
        <translation>凭条补打</translation>
    </message>
    <message>
        <location filename="../features/reprint/screens.py" line="78"/>
        <source>‹ Previous</source>
        <translation>‹ 上一页</translation>
    </message>
    <message>
        <location filename="../features/reprint/screens.py" line="79"/>
        <source>Next ›</source>
        <translation>下一页 ›</translation>
    </message>
    <message>
        <location filename="../features/reprint/screens.py" line="80"/>
        <source>Page {page} of {pages}</source>
        <translation>第 {page} / {pages} 页</translation>
    </message>
</context>
<context>
    <name>ReprintSlipName</name>
    <message>
        <location filename="../features/reprint/screens.py" line="37"/>
        <source>Registration receipt</source>
        <translation>挂号凭条</translation>
    </message>
    <message>
        <location filename="../features/reprint/screens.py" line="38"/>
        <source>Refund slip</source>
        <translation>退号凭条</translation>
    </message>
    <message>
        <location filename="../features/reprint/screens.py" line="39"/>
        <source>Patient record slip</source>
        <translation>建档凭条</translation>
    </message>
</context>
<context>
    <name>ResultScreen</name>
    <message>
        <location filename="../screens/result.py" line="42"/>
        <source>Registration complete</source>
        <translation>挂号成功</translation>
    </message>
    <message>
        <location filename="../screens/result.py" line="44"/>
        <source>Registration pending confirmation</source>
        <translation>挂号待确认</translation>
    </message>
    <message>
        <location filename="../screens/result.py" line="46"/>
        <source>Please pay at the cashier window</source>
        <translation>请到收费窗口缴费</translation>
    </message>
    <message>
        <location filename="../screens/result.py" line="48"/>
        <source>Payment not confirmed yet</source>
        <translation>支付结果尚未确认</translation>
    </message>
    <message>
        <location filename="../screens/result.py" line="59"/>
        <source>Your queue number</source>
        <translation>您的挂号序号</translation>
    </message>
    <message>
        <location filename="../screens/result.py" line="61"/>
        <source>Provisional number</source>
        <translation>临时挂号序号</translation>
    </message>
    <message>
        <location filename="../screens/result.py" line="63"/>
        <source>Your registration number</source>
        <translation>您的挂号序号</translation>
    </message>
    <message>
        <location filename="../screens/result.py" line="65"/>
        <source>Fee (pay at the cashier)</source>
        <translation>挂号费（窗口缴纳）</translation>
    </message>
    <message>
        <location filename="../screens/result.py" line="67"/>
        <source>Department</source>
        <translation>科室</translation>
    </message>
    <message>
        <location filename="../screens/result.py" line="68"/>
        <source>Doctor</source>
        <translation>医生</translation>
    </message>
    <message>
        <location filename="../screens/result.py" line="69"/>
        <source>Time</source>
        <translation>就诊时间</translation>
    </message>
    <message>
        <location filename="../screens/result.py" line="65"/>
        <source>Paid</source>
        <translation>已付金额</translation>
    </message>
    <message>
        <location filename="../screens/result.py" line="77"/>
        <source>Printing your receipt…</source>
        <translation>正在打印凭条…</translation>
    </message>
    <message>
        <location filename="../screens/result.py" line="78"/>
        <source>Please take your receipt from the slot below.</source>
        <translation>请从下方出纸口取走凭条。</translation>
    </message>
    <message>
        <location filename="../screens/result.py" line="79"/>
        <source>The slip could not be printed. Please tell the cashier your provisional number.</source>
        <translation>凭条未能打印。请向收费窗口告知您的临时挂号序号。</translation>
    </message>
    <message>
        <location filename="../screens/result.py" line="81"/>
        <source>The receipt could not be printed. Your registration is valid.</source>
        <translation>凭条未能打印，您的挂号依然有效。</translation>
    </message>
    <message>
        <location filename="../screens/result.py" line="87"/>
        <source>Finish</source>
        <translation>完成</translation>
    </message>
    <message>
        <location filename="../screens/result.py" line="82"/>
        <source>Try printing the receipt again</source>
        <translation>重新打印凭条</translation>
    </message>
</context>
<context>
    <name>SettingsPanel</name>
    <message>
        <location filename="../diagnostics/settings_panel.py" line="92"/>
        <source>Nothing has changed.</source>
        <translation>没有任何修改。</translation>
    </message>
    <message>
        <location filename="../diagnostics/settings_panel.py" line="106"/>
        <source>Kept in memory only: the kiosk was started without a configuration file, so there is nothing to write to. The change is lost when the kiosk restarts.</source>
        <translation>仅保存在内存中：本机启动时未指定配置文件，无处写入。终端重启后修改将丢失。</translation>
    </message>
    <message>
        <location filename="../diagnostics/settings_panel.py" line="113"/>
        <source>Saving…</source>
        <translation>正在保存…</translation>
    </message>
    <message>
        <location filename="../diagnostics/settings_panel.py" line="137"/>
        <source>ID-card reader</source>
        <translation>身份证读卡器</translation>
    </message>
    <message>
        <location filename="../diagnostics/settings_panel.py" line="138"/>
        <source>Insurance card reader</source>
        <translation>社保卡读卡器</translation>
    </message>
    <message>
        <location filename="../diagnostics/settings_panel.py" line="139"/>
        <source>Code scanner</source>
        <translation>扫码器</translation>
    </message>
    <message>
        <location filename="../diagnostics/settings_panel.py" line="140"/>
        <source>Receipt printer</source>
        <translation>凭条打印机</translation>
    </message>
    <message>
        <location filename="../diagnostics/settings_panel.py" line="141"/>
        <source>Camera</source>
        <translation>摄像头</translation>
    </message>
    <message>
        <location filename="../diagnostics/settings_panel.py" line="147"/>
        <source>{name} (not enabled)</source>
        <translation>{name}（未启用）</translation>
    </message>
    <message>
        <location filename="../diagnostics/settings_panel.py" line="152"/>
        <source>Device addresses (URLs). A change takes effect after the kiosk restarts. Typing needs a USB keyboard.</source>
        <translation>设备地址（URL）。修改在终端重启后生效。输入需要连接 USB 键盘。</translation>
    </message>
    <message>
        <location filename="../diagnostics/settings_panel.py" line="158"/>
        <source>No configuration file was given at start: changes are kept in memory only.</source>
        <translation>启动时未指定配置文件：修改仅保存在内存中。</translation>
    </message>
    <message>
        <location filename="../diagnostics/settings_panel.py" line="161"/>
        <source>Configuration file: {path}</source>
        <translation>配置文件：{path}</translation>
    </message>
    <message>
        <location filename="../diagnostics/settings_panel.py" line="162"/>
        <source>Save</source>
        <translation>保存</translation>
    </message>
    <message>
        <location filename="../diagnostics/settings_panel.py" line="163"/>
        <source>Undo changes</source>
        <translation>撤销修改</translation>
    </message>
    <message>
        <location filename="../diagnostics/settings_panel.py" line="176"/>
        <source>Saved to {path}. The change takes effect after the kiosk restarts.</source>
        <translation>已保存到 {path}。修改在终端重启后生效。</translation>
    </message>
    <message>
        <location filename="../diagnostics/settings_panel.py" line="186"/>
        <source>Not saved: {error}</source>
        <translation>未保存：{error}</translation>
    </message>
</context>
<context>
    <name>SignInScreen</name>
    <message>
        <location filename="../features/cashier/screens_staff.py" line="116"/>
        <source>Cashier sign-in</source>
        <translation>收费员登录</translation>
    </message>
    <message>
        <location filename="../features/cashier/screens_staff.py" line="117"/>
        <source>Enter your staff number and PIN, or place your staff ID card on the reader.</source>
        <translation>请输入工号和密码，或将您的身份证放在读卡器上。</translation>
    </message>
    <message>
        <location filename="../features/cashier/screens_staff.py" line="120"/>
        <source>Staff number: {n}</source>
        <translation>工号：{n}</translation>
    </message>
    <message>
        <location filename="../features/cashier/screens_staff.py" line="121"/>
        <source>PIN: {dots}</source>
        <translation>密码：{dots}</translation>
    </message>
    <message>
        <location filename="../features/cashier/screens_staff.py" line="125"/>
        <source>Next</source>
        <translation>下一步</translation>
    </message>
    <message>
        <location filename="../features/cashier/screens_staff.py" line="125"/>
        <source>Sign in</source>
        <translation>登录</translation>
    </message>
</context>
<context>
    <name>SlotScreen</name>
    <message>
        <location filename="../screens/choice.py" line="172"/>
        <source>{n} left</source>
        <translation>余{n}个</translation>
    </message>
    <message>
        <location filename="../screens/choice.py" line="172"/>
        <source>Full</source>
        <translation>已满</translation>
    </message>
    <message>
        <location filename="../screens/choice.py" line="181"/>
        <source>Choose a time</source>
        <translation>请选择就诊时段</translation>
    </message>
    <message>
        <location filename="../screens/choice.py" line="182"/>
        <source>Doctor: {doctor}</source>
        <translation>医生：{doctor}</translation>
    </message>
    <message>
        <location filename="../screens/choice.py" line="183"/>
        <source>Previous</source>
        <translation>上一页</translation>
    </message>
    <message>
        <location filename="../screens/choice.py" line="184"/>
        <source>Next</source>
        <translation>下一页</translation>
    </message>
    <message>
        <location filename="../screens/choice.py" line="185"/>
        <source>Page {page} of {pages}</source>
        <translation>第 {page} / {pages} 页</translation>
    </message>
</context>
<context>
    <name>SyncCard</name>
    <message>
        <location filename="../diagnostics/sync_card.py" line="103"/>
        <source>Outbox</source>
        <translation>待上传队列</translation>
    </message>
    <message>
        <location filename="../diagnostics/sync_card.py" line="104"/>
        <source>Fill level</source>
        <translation>占用比例</translation>
    </message>
    <message>
        <location filename="../diagnostics/sync_card.py" line="105"/>
        <source>Oldest pending</source>
        <translation>最早待上传</translation>
    </message>
    <message>
        <location filename="../diagnostics/sync_card.py" line="106"/>
        <source>Rejected</source>
        <translation>被拒绝</translation>
    </message>
    <message>
        <location filename="../diagnostics/sync_card.py" line="107"/>
        <source>Clock offset</source>
        <translation>时钟偏差</translation>
    </message>
    <message>
        <location filename="../diagnostics/sync_card.py" line="108"/>
        <source>Settled since start</source>
        <translation>启动以来已处理</translation>
    </message>
    <message>
        <location filename="../diagnostics/sync_card.py" line="109"/>
        <source>Last error</source>
        <translation>最近错误</translation>
    </message>
    <message>
        <location filename="../diagnostics/sync_card.py" line="113"/>
        <source>Hospital system connection</source>
        <translation>医院系统连接</translation>
    </message>
    <message>
        <location filename="../diagnostics/sync_card.py" line="117"/>
        <source>Online</source>
        <translation>在线</translation>
    </message>
    <message>
        <location filename="../diagnostics/sync_card.py" line="117"/>
        <source>Offline</source>
        <translation>离线</translation>
    </message>
    <message>
        <location filename="../diagnostics/sync_card.py" line="117"/>
        <source>No contact yet</source>
        <translation>尚未连接</translation>
    </message>
    <message>
        <location filename="../diagnostics/sync_card.py" line="125"/>
        <source>{offset} s (server minus kiosk)</source>
        <translation>{offset} 秒（服务器减本机）</translation>
    </message>
    <message>
        <location filename="../diagnostics/sync_card.py" line="127"/>
        <source>not measured yet</source>
        <translation>尚未测得</translation>
    </message>
    <message>
        <location filename="../diagnostics/sync_card.py" line="133"/>
        <source>could not be read</source>
        <translation>无法读取</translation>
    </message>
    <message>
        <location filename="../diagnostics/sync_card.py" line="133"/>
        <source>reading…</source>
        <translation>读取中…</translation>
    </message>
    <message>
        <location filename="../diagnostics/sync_card.py" line="138"/>
        <source>{n} pending ({size})</source>
        <translation>{n} 条待上传（{size}）</translation>
    </message>
    <message>
        <location filename="../diagnostics/sync_card.py" line="155"/>
        <source>OK</source>
        <translation>正常</translation>
    </message>
    <message>
        <location filename="../diagnostics/sync_card.py" line="156"/>
        <source>warning: over half full</source>
        <translation>警告：已超过一半</translation>
    </message>
    <message>
        <location filename="../diagnostics/sync_card.py" line="157"/>
        <source>warning: over 80 % full</source>
        <translation>警告：已超过 80%</translation>
    </message>
    <message>
        <location filename="../diagnostics/sync_card.py" line="158"/>
        <source>full: new offline registrations are refused</source>
        <translation>已满：不再接受新的离线挂号</translation>
    </message>
    <message>
        <location filename="../diagnostics/sync_card.py" line="164"/>
        <source>{s} s</source>
        <translation>{s} 秒</translation>
    </message>
    <message>
        <location filename="../diagnostics/sync_card.py" line="166"/>
        <source>{m} min {s} s</source>
        <translation>{m} 分 {s} 秒</translation>
    </message>
    <message>
        <location filename="../diagnostics/sync_card.py" line="168"/>
        <source>{h} h {m} min</source>
        <translation>{h} 小时 {m} 分</translation>
    </message>
    <message>
        <location filename="../diagnostics/sync_card.py" line="169"/>
        <source>{d} d {h} h</source>
        <translation>{d} 天 {h} 小时</translation>
    </message>
</context>
<context>
    <name>TakeScreen</name>
    <message>
        <location filename="../features/cashier/screens_patient.py" line="178"/>
        <source>Take the payment</source>
        <translation>收费</translation>
    </message>
    <message>
        <location filename="../features/cashier/screens_patient.py" line="184"/>
        <source>Items</source>
        <translation>项目数</translation>
    </message>
    <message>
        <location filename="../features/cashier/screens_patient.py" line="185"/>
        <source>Total</source>
        <translation>总金额</translation>
    </message>
    <message>
        <location filename="../features/cashier/screens_patient.py" line="186"/>
        <source>Insurance pays</source>
        <translation>医保支付</translation>
    </message>
    <message>
        <location filename="../features/cashier/screens_patient.py" line="187"/>
        <source>Patient pays</source>
        <translation>个人支付</translation>
    </message>
</context>
<context>
    <name>TopUpAmountScreen</name>
    <message>
        <location filename="../features/topup/screens.py" line="165"/>
        <source>Choose an amount</source>
        <translation>请选择充值金额</translation>
    </message>
    <message>
        <location filename="../features/topup/screens.py" line="166"/>
        <source>From {low} to {high} per top-up.</source>
        <translation>每次可充值 {low} 至 {high}。</translation>
    </message>
    <message>
        <location filename="../features/topup/screens.py" line="171"/>
        <source>Other amount (whole yuan)</source>
        <translation>其他金额（整元）</translation>
    </message>
    <message>
        <location filename="../features/topup/screens.py" line="174"/>
        <source>Delete</source>
        <translation>删除</translation>
    </message>
    <message>
        <location filename="../features/topup/screens.py" line="176"/>
        <source>Top up</source>
        <translation>充值</translation>
    </message>
</context>
<context>
    <name>TopUpBalanceScreen</name>
    <message>
        <location filename="../features/topup/screens.py" line="82"/>
        <source>Top-up</source>
        <translation>充值</translation>
    </message>
    <message>
        <location filename="../features/topup/screens.py" line="83"/>
        <source>Bill paid</source>
        <translation>缴费</translation>
    </message>
    <message>
        <location filename="../features/topup/screens.py" line="84"/>
        <source>Refund</source>
        <translation>退款</translation>
    </message>
    <message>
        <location filename="../features/topup/screens.py" line="93"/>
        <source>Prepaid account</source>
        <translation>预交金账户</translation>
    </message>
    <message>
        <location filename="../features/topup/screens.py" line="95"/>
        <source>Balance</source>
        <translation>余额</translation>
    </message>
    <message>
        <location filename="../features/topup/screens.py" line="108"/>
        <source>Looking up your account…</source>
        <translation>正在查询您的账户…</translation>
    </message>
    <message>
        <location filename="../features/topup/screens.py" line="110"/>
        <source>Top-up is not possible while the hospital system is offline. Please try again later.</source>
        <translation>医院系统离线，暂时无法充值，请稍后再试。</translation>
    </message>
    <message>
        <location filename="../features/topup/screens.py" line="112"/>
        <source>No payments or top-ups yet.</source>
        <translation>暂无充值或缴费记录。</translation>
    </message>
    <message>
        <location filename="../features/topup/screens.py" line="117"/>
        <source>Try again</source>
        <translation>重试</translation>
    </message>
    <message>
        <location filename="../features/topup/screens.py" line="119"/>
        <source>Top up</source>
        <translation>充值</translation>
    </message>
</context>
<context>
    <name>TopUpPayScreen</name>
    <message>
        <location filename="../features/topup/screens.py" line="193"/>
        <source>Top up the prepaid account</source>
        <translation>预交金充值</translation>
    </message>
</context>
<context>
    <name>TopUpResultScreen</name>
    <message>
        <location filename="../features/topup/screens.py" line="217"/>
        <source>Top-up complete</source>
        <translation>充值成功</translation>
    </message>
    <message>
        <location filename="../features/topup/screens.py" line="218"/>
        <source>Top-up not confirmed yet</source>
        <translation>充值结果待确认</translation>
    </message>
    <message>
        <location filename="../features/topup/screens.py" line="219"/>
        <source>Top-up not possible right now</source>
        <translation>暂时无法充值</translation>
    </message>
    <message>
        <location filename="../features/topup/screens.py" line="225"/>
        <source>Topped up</source>
        <translation>充值金额</translation>
    </message>
    <message>
        <location filename="../features/topup/screens.py" line="226"/>
        <source>New balance</source>
        <translation>充值后余额</translation>
    </message>
    <message>
        <location filename="../features/topup/screens.py" line="227"/>
        <source>Patient</source>
        <translation>患者</translation>
    </message>
    <message>
        <location filename="../features/topup/screens.py" line="234"/>
        <source>Printing your receipt…</source>
        <translation>正在打印凭条…</translation>
    </message>
    <message>
        <location filename="../features/topup/screens.py" line="235"/>
        <source>Please take your receipt from the slot below.</source>
        <translation>请从下方出纸口取走凭条。</translation>
    </message>
    <message>
        <location filename="../features/topup/screens.py" line="236"/>
        <source>The receipt could not be printed. Your top-up is in your account.</source>
        <translation>凭条未能打印，充值已到账。</translation>
    </message>
    <message>
        <location filename="../features/topup/screens.py" line="237"/>
        <source>Try printing the receipt again</source>
        <translation>重新打印凭条</translation>
    </message>
    <message>
        <location filename="../features/topup/screens.py" line="240"/>
        <source>Finish</source>
        <translation>完成</translation>
    </message>
</context>
<context>
    <name>features</name>
    <message>
        <location filename="../features/refund/screens.py" line="21"/>
        <source>Cancel visit</source>
        <translation>退号</translation>
    </message>
    <message>
        <location filename="../features/refund/screens.py" line="22"/>
        <source>Hand it back, fee refunded</source>
        <translation>退号并原路退费</translation>
    </message>
    <message>
        <location filename="../features/reports/screens.py" line="17"/>
        <source>Print reports</source>
        <translation>报告打印</translation>
    </message>
    <message>
        <location filename="../features/reports/screens.py" line="17"/>
        <source>Lab and imaging results</source>
        <translation>检验、检查报告</translation>
    </message>
    <message>
        <location filename="../features/reprint/screens.py" line="19"/>
        <source>Reprint</source>
        <translation>凭条补打</translation>
    </message>
    <message>
        <location filename="../features/reprint/screens.py" line="20"/>
        <source>Your recent slips, marked as copies</source>
        <translation>近期凭条，标注补打</translation>
    </message>
    <message>
        <location filename="../features/topup/screens.py" line="22"/>
        <source>Prepaid account</source>
        <translation>预交金充值</translation>
    </message>
    <message>
        <location filename="../features/topup/screens.py" line="23"/>
        <source>Balance and top-up</source>
        <translation>余额查询与充值</translation>
    </message>
    <message>
        <location filename="../features/checkin/screens.py" line="21"/>
        <source>Check in</source>
        <translation>预约取号</translation>
    </message>
    <message>
        <location filename="../features/checkin/screens.py" line="21"/>
        <source>For a visit booked in advance</source>
        <translation>已预约的就诊</translation>
    </message>
    <message>
        <location filename="../features/cashier/screens_staff.py" line="20"/>
        <source>Cashier window</source>
        <translation>收费窗口</translation>
    </message>
    <message>
        <location filename="../features/cashier/screens_staff.py" line="21"/>
        <source>Staff sign-in</source>
        <translation>工作人员登录</translation>
    </message>
    <message>
        <location filename="../features/bills/screens.py" line="25"/>
        <source>Pay bills</source>
        <translation>缴费</translation>
    </message>
    <message>
        <location filename="../features/bills/screens.py" line="26"/>
        <source>Prescriptions and tests</source>
        <translation>处方、检验检查费用</translation>
    </message>
</context>
<context>
    <name>messages</name>
    <message>
        <location filename="../messages.py" line="75"/>
        <source>The balance of the payment account is not enough.</source>
        <translation>付款账户余额不足。</translation>
    </message>
    <message>
        <location filename="../messages.py" line="76"/>
        <source>The payment code has expired.</source>
        <translation>付款码已过期。</translation>
    </message>
    <message>
        <location filename="../messages.py" line="77"/>
        <source>The payment code is not valid.</source>
        <translation>付款码无效。</translation>
    </message>
    <message>
        <location filename="../messages.py" line="78"/>
        <source>The payment was not confirmed on the phone in time.</source>
        <translation>未能及时在手机上确认支付。</translation>
    </message>
    <message>
        <location filename="../messages.py" line="79"/>
        <location filename="../messages.py" line="123"/>
        <source>This registration has already been paid.</source>
        <translation>该挂号已支付。</translation>
    </message>
    <message>
        <location filename="../messages.py" line="80"/>
        <source>The amount has changed since it was shown.</source>
        <translation>金额已发生变化。</translation>
    </message>
    <message>
        <location filename="../messages.py" line="84"/>
        <source>A device is not working. Please ask the staff for help.</source>
        <translation>设备故障，请联系工作人员。</translation>
    </message>
    <message>
        <location filename="../messages.py" line="85"/>
        <source>The device is not connected. Please ask the staff for help.</source>
        <translation>设备未连接，请联系工作人员。</translation>
    </message>
    <message>
        <location filename="../messages.py" line="86"/>
        <source>The device did not answer in time. Please try again.</source>
        <translation>设备响应超时，请重试。</translation>
    </message>
    <message>
        <location filename="../messages.py" line="87"/>
        <source>The card could not be read correctly. Please place it again.</source>
        <translation>未能正确读取卡片，请重新放置。</translation>
    </message>
    <message>
        <location filename="../messages.py" line="88"/>
        <source>The card was moved while it was being read. Please place it again and hold it still.</source>
        <translation>读卡时卡片被移开，请重新放置并保持不动。</translation>
    </message>
    <message>
        <location filename="../messages.py" line="91"/>
        <source>The photo on the ID card could not be read.</source>
        <translation>未能读取身份证照片。</translation>
    </message>
    <message>
        <location filename="../messages.py" line="92"/>
        <source>This card is not a social-security card. Please insert your social-security card.</source>
        <translation>这不是社会保障卡，请插入您的社保卡。</translation>
    </message>
    <message>
        <location filename="../messages.py" line="95"/>
        <source>This social-security card is locked. Please go to the service desk.</source>
        <translation>该社保卡已锁定，请到服务台办理。</translation>
    </message>
    <message>
        <location filename="../messages.py" line="98"/>
        <source>Reading the card, please hold it still…</source>
        <translation>正在读卡，请保持卡片不动…</translation>
    </message>
    <message>
        <location filename="../messages.py" line="99"/>
        <source>The printer has a problem. Please ask the staff for your receipt.</source>
        <translation>打印机故障，请向工作人员索取凭条。</translation>
    </message>
    <message>
        <location filename="../messages.py" line="100"/>
        <source>The printer is out of paper. Please ask the staff for your receipt.</source>
        <translation>打印机缺纸，请向工作人员索取凭条。</translation>
    </message>
    <message>
        <location filename="../messages.py" line="103"/>
        <source>The printer cover is open. Please ask the staff for help.</source>
        <translation>打印机盖未关闭，请联系工作人员。</translation>
    </message>
    <message>
        <location filename="../messages.py" line="104"/>
        <source>The printer is not responding. Please ask the staff for your receipt.</source>
        <translation>打印机无响应，请向工作人员索取凭条。</translation>
    </message>
    <message>
        <location filename="../messages.py" line="107"/>
        <source>No printer is connected. Please ask the staff for your receipt.</source>
        <translation>未连接打印机，请向工作人员索取凭条。</translation>
    </message>
    <message>
        <location filename="../messages.py" line="110"/>
        <source>This receipt may already have printed. The staff can reprint it.</source>
        <translation>该凭条可能已打印，如需补打请联系工作人员。</translation>
    </message>
    <message>
        <location filename="../messages.py" line="113"/>
        <source>The hospital system cannot be reached. Please try again in a moment.</source>
        <translation>无法连接医院系统，请稍后重试。</translation>
    </message>
    <message>
        <location filename="../messages.py" line="116"/>
        <source>The hospital system is not answering. Please try again in a moment.</source>
        <translation>医院系统响应超时，请稍后重试。</translation>
    </message>
    <message>
        <location filename="../messages.py" line="119"/>
        <source>The hospital system reported an error. Please try again.</source>
        <translation>医院系统出错，请重试。</translation>
    </message>
    <message>
        <location filename="../messages.py" line="120"/>
        <source>That time is now fully booked. Please choose another time.</source>
        <translation>该时段已约满，请选择其他时段。</translation>
    </message>
    <message>
        <location filename="../messages.py" line="124"/>
        <source>The record was not found. Please start again.</source>
        <translation>未找到记录，请重新开始。</translation>
    </message>
    <message>
        <location filename="../messages.py" line="125"/>
        <source>No departments are open for registration today.</source>
        <translation>今日暂无可挂号的科室。</translation>
    </message>
    <message>
        <location filename="../messages.py" line="126"/>
        <source>No doctors are on duty in this department today.</source>
        <translation>该科室今日无出诊医生。</translation>
    </message>
    <message>
        <location filename="../messages.py" line="127"/>
        <source>This doctor has no free times left today.</source>
        <translation>该医生今日已无可预约时段。</translation>
    </message>
    <message>
        <location filename="../messages.py" line="128"/>
        <source>This doctor is fully booked today. Please choose another doctor.</source>
        <translation>该医生今日号源已满，请选择其他医生。</translation>
    </message>
    <message>
        <location filename="../messages.py" line="131"/>
        <source>That is not a payment code. Please show the WeChat or Alipay payment code.</source>
        <translation>这不是付款码，请出示微信或支付宝付款码。</translation>
    </message>
    <message>
        <location filename="../messages.py" line="134"/>
        <source>Processing the payment…</source>
        <translation>正在处理支付…</translation>
    </message>
    <message>
        <location filename="../messages.py" line="135"/>
        <source>Please confirm the payment on your phone.</source>
        <translation>请在手机上确认支付。</translation>
    </message>
    <message>
        <location filename="../messages.py" line="136"/>
        <source>Payment received.</source>
        <translation>支付成功。</translation>
    </message>
    <message>
        <location filename="../messages.py" line="137"/>
        <source>The payment did not go through.</source>
        <translation>支付未成功。</translation>
    </message>
    <message>
        <location filename="../messages.py" line="138"/>
        <source>We could not confirm the payment yet. No money is lost: if it was charged, it will be registered or refunded automatically. Please ask at the cashier window.</source>
        <translation>暂未确认支付结果。您的资金不会损失：如已扣款，系统将自动完成挂号或退款。请到收费窗口咨询。</translation>
    </message>
    <message>
        <location filename="../messages.py" line="143"/>
        <source>Please scan the payment code again, or go to the cashier window.</source>
        <translation>请重新扫描付款码，或到收费窗口办理。</translation>
    </message>
    <message>
        <location filename="../messages.py" line="144"/>
        <source>The hospital system refused the request. Please go to the service desk.</source>
        <translation>医院系统拒绝了该请求，请到服务台咨询。</translation>
    </message>
    <message>
        <location filename="../messages.py" line="147"/>
        <source>This kiosk is not enrolled with the hospital system, or was revoked. Please call IT.</source>
        <translation>本机未在医院系统登记或已被停用，请联系信息科。</translation>
    </message>
    <message>
        <location filename="../messages.py" line="150"/>
        <source>This kiosk&apos;s clock is wrong, so the hospital system refuses it. Please call IT.</source>
        <translation>本机时间不准确，医院系统拒绝了请求，请联系信息科。</translation>
    </message>
    <message>
        <location filename="../messages.py" line="153"/>
        <source>Something went wrong. Please try again or ask the staff for help.</source>
        <translation>出现问题，请重试或联系工作人员。</translation>
    </message>
    <message>
        <location filename="../messages.py" line="156"/>
        <source>The hospital system is offline, so your registration is pending confirmation. Please take the slip and pay at the cashier window; if the time is taken meanwhile, the staff will rebook you.</source>
        <translation>医院系统暂时离线，您的挂号待确认。请取走凭条到收费窗口缴费；如该时段在此期间已被约满，工作人员会为您重新安排。</translation>
    </message>
    <message>
        <location filename="../messages.py" line="161"/>
        <source>Paying by QR code needs the hospital system, which is offline. Your place is kept; please pay at the cashier window.</source>
        <translation>扫码支付需要连接医院系统，目前系统离线。您的号源已为您保留，请到收费窗口缴费。</translation>
    </message>
    <message>
        <location filename="../messages.py" line="167"/>
        <source>You have nothing to pay at the moment.</source>
        <translation>您目前没有待缴费项目。</translation>
    </message>
    <message>
        <location filename="../messages.py" line="168"/>
        <source>Please choose at least one item to pay.</source>
        <translation>请至少选择一个缴费项目。</translation>
    </message>
    <message>
        <location filename="../messages.py" line="169"/>
        <source>These items cannot be paid here right now. Please go to the cashier window.</source>
        <translation>这些项目暂时无法在自助机缴费，请到收费窗口办理。</translation>
    </message>
    <message>
        <location filename="../messages.py" line="172"/>
        <source>An item was already paid elsewhere. The list has been updated; please check it again.</source>
        <translation>有项目已在别处缴费，列表已更新，请重新核对。</translation>
    </message>
    <message>
        <location filename="../messages.py" line="175"/>
        <source>An item changed since it was shown. The list has been updated; please check it again.</source>
        <translation>有项目在显示后发生了变化，列表已更新，请重新核对。</translation>
    </message>
    <message>
        <location filename="../messages.py" line="178"/>
        <source>The hospital cancelled an item. The list has been updated; please check it again.</source>
        <translation>医院已撤销某个项目，列表已更新，请重新核对。</translation>
    </message>
    <message>
        <location filename="../messages.py" line="181"/>
        <source>An item is no longer open. The list has been updated; please check it again.</source>
        <translation>有项目已不在待缴状态，列表已更新，请重新核对。</translation>
    </message>
    <message>
        <location filename="../messages.py" line="184"/>
        <source>The time to pay these items ran out. The list has been updated; please check it again.</source>
        <translation>这些项目的缴费时限已过，列表已更新，请重新核对。</translation>
    </message>
    <message>
        <location filename="../messages.py" line="187"/>
        <source>An item is being paid at another kiosk or window. Please try again in a few minutes.</source>
        <translation>有项目正在其他自助机或窗口缴费，请几分钟后再试。</translation>
    </message>
    <message>
        <location filename="../messages.py" line="190"/>
        <source>The medical insurance system is not answering, so nothing was charged. Please try again later or go to the cashier window.</source>
        <translation>医保系统暂无响应，未扣任何费用。请稍后再试，或到收费窗口办理。</translation>
    </message>
    <message>
        <location filename="../messages.py" line="195"/>
        <source>The time to pay ran out, so the amounts were worked out again. Please choose how to pay.</source>
        <translation>缴费时限已过，金额已重新计算，请重新选择支付方式。</translation>
    </message>
    <message>
        <location filename="../messages.py" line="198"/>
        <source>Your medical insurance pays all of it. There is nothing to pay.</source>
        <translation>医保已全额支付，您无需付款。</translation>
    </message>
    <message>
        <location filename="../messages.py" line="199"/>
        <source>Paid from your prepaid account.</source>
        <translation>已使用预交金支付。</translation>
    </message>
    <message>
        <location filename="../messages.py" line="200"/>
        <source>The prepaid account balance is too low. Nothing was taken; please choose another way to pay.</source>
        <translation>预交金余额不足，未扣任何费用，请选择其他支付方式。</translation>
    </message>
    <message>
        <location filename="../messages.py" line="203"/>
        <source>Bills cannot be paid at the kiosk while the hospital system is unreachable. Please go to the cashier window.</source>
        <translation>医院系统暂时无法连接，自助机暂不能缴费，请到收费窗口办理。</translation>
    </message>
    <message>
        <location filename="../messages.py" line="208"/>
        <source>The QR code was cancelled. Nothing was charged.</source>
        <translation>二维码已取消，未扣任何费用。</translation>
    </message>
    <message>
        <location filename="../messages.py" line="209"/>
        <source>The QR code expired before it was paid. Nothing was charged; please choose how to pay.</source>
        <translation>二维码已过期且未支付，未扣任何费用，请重新选择支付方式。</translation>
    </message>
    <message>
        <location filename="../messages.py" line="212"/>
        <source>No QR code could be made. Please scan your payment code instead, or go to the cashier window.</source>
        <translation>无法生成二维码，请改用付款码支付，或到收费窗口办理。</translation>
    </message>
    <message>
        <location filename="../messages.py" line="215"/>
        <source>The payment arrived just as the code was cancelled and was returned to your account at once. Please choose how to pay.</source>
        <translation>付款在取消二维码时到账，已立即原路退回您的账户。请重新选择支付方式。</translation>
    </message>
    <message>
        <location filename="../messages.py" line="220"/>
        <source>Cancelling the QR code…</source>
        <translation>正在取消二维码…</translation>
    </message>
    <message>
        <location filename="../messages.py" line="221"/>
        <source>The cancel did not reach the hospital system. The code may still be paid; press Cancel again.</source>
        <translation>取消请求未送达医院系统，二维码可能仍可支付，请再次点击“取消”。</translation>
    </message>
    <message>
        <location filename="../messages.py" line="224"/>
        <source>The result of the QR payment is not known yet. If you paid, the payment is kept and the items count as paid: please ask at the cashier window.</source>
        <translation>扫码支付结果暂未确认。如您已付款，款项不会丢失，项目按已缴费处理：请到收费窗口咨询。</translation>
    </message>
    <message>
        <location filename="../messages.py" line="229"/>
        <source>The kiosk has been offline too long to accept more registrations. Please go to the service desk.</source>
        <translation>本机离线时间过长，暂不能再办理挂号。请到服务台办理。</translation>
    </message>
    <message>
        <location filename="../messages.py" line="233"/>
        <source>Offline: registrations are kept on this kiosk and confirmed when the network is back.</source>
        <translation>离线模式：挂号暂存在本机，网络恢复后自动确认。</translation>
    </message>
    <message>
        <location filename="../messages.py" line="237"/>
        <source>Please stand in front of the camera</source>
        <translation>请站到摄像头前</translation>
    </message>
    <message>
        <location filename="../messages.py" line="238"/>
        <source>Only one person in front of the camera, please</source>
        <translation>请保持镜头前只有一人</translation>
    </message>
    <message>
        <location filename="../messages.py" line="239"/>
        <source>Please move a little closer</source>
        <translation>请靠近一点</translation>
    </message>
    <message>
        <location filename="../messages.py" line="240"/>
        <source>Please move back a little</source>
        <translation>请后退一点</translation>
    </message>
    <message>
        <location filename="../messages.py" line="241"/>
        <source>Please put your face inside the oval</source>
        <translation>请把脸放在椭圆框内</translation>
    </message>
    <message>
        <location filename="../messages.py" line="242"/>
        <source>Please look straight at the camera</source>
        <translation>请正视摄像头</translation>
    </message>
    <message>
        <location filename="../messages.py" line="243"/>
        <source>Please hold still</source>
        <translation>请保持不动</translation>
    </message>
    <message>
        <location filename="../messages.py" line="244"/>
        <source>It is too dark: please face the light</source>
        <translation>光线太暗，请面向光源</translation>
    </message>
    <message>
        <location filename="../messages.py" line="245"/>
        <source>Too much light behind or on you</source>
        <translation>光线太强，请避开强光</translation>
    </message>
    <message>
        <location filename="../messages.py" line="246"/>
        <source>Good, hold still</source>
        <translation>很好，请保持不动</translation>
    </message>
    <message>
        <location filename="../messages.py" line="247"/>
        <source>Slowly turn your head to the left</source>
        <translation>请慢慢向左转头</translation>
    </message>
    <message>
        <location filename="../messages.py" line="248"/>
        <source>Slowly turn your head to the right</source>
        <translation>请慢慢向右转头</translation>
    </message>
    <message>
        <location filename="../messages.py" line="249"/>
        <source>Your face matches your ID card photo.</source>
        <translation>您的面部与身份证照片一致。</translation>
    </message>
    <message>
        <location filename="../messages.py" line="250"/>
        <source>The check took too long.</source>
        <translation>核验超时。</translation>
    </message>
    <message>
        <location filename="../messages.py" line="251"/>
        <source>The check needs a real face, not a photo or a screen.</source>
        <translation>核验需要真人面部，不能使用照片或屏幕。</translation>
    </message>
    <message>
        <location filename="../messages.py" line="252"/>
        <source>We did not see your head turn.</source>
        <translation>未检测到转头动作。</translation>
    </message>
    <message>
        <location filename="../messages.py" line="253"/>
        <source>The head turned the other way.</source>
        <translation>转头方向不对。</translation>
    </message>
    <message>
        <location filename="../messages.py" line="254"/>
        <source>We lost sight of your face.</source>
        <translation>未能持续检测到您的面部。</translation>
    </message>
    <message>
        <location filename="../messages.py" line="255"/>
        <source>Your face did not match the photo on the ID card.</source>
        <translation>您的面部与身份证照片不一致。</translation>
    </message>
    <message>
        <location filename="../messages.py" line="256"/>
        <source>The camera is not working, so the staff will check your ID card at the service window.</source>
        <translation>摄像头无法使用，将由工作人员在服务窗口核验您的身份证。</translation>
    </message>
    <message>
        <location filename="../messages.py" line="259"/>
        <source>The photo on your ID card cannot be used for the check. The staff will check your ID card.</source>
        <translation>身份证照片无法用于核验，将由工作人员核验您的身份证。</translation>
    </message>
    <message>
        <location filename="../messages.py" line="262"/>
        <source>The face check is not working right now. The staff will check your ID card.</source>
        <translation>人脸核验暂时无法使用，将由工作人员核验您的身份证。</translation>
    </message>
    <message>
        <location filename="../messages.py" line="265"/>
        <source>Face verification is not offered at this kiosk. The staff will check your ID card.</source>
        <translation>本机不提供人脸核验，将由工作人员核验您的身份证。</translation>
    </message>
    <message>
        <location filename="../messages.py" line="268"/>
        <source>The camera is not available, so the staff will check your ID card at the service window.</source>
        <translation>摄像头不可用，将由工作人员在服务窗口核验您的身份证。</translation>
    </message>
    <message>
        <location filename="../messages.py" line="271"/>
        <source>The photo on your ID card cannot be read here, so the staff will check your ID card at the service window.</source>
        <translation>本机无法读取身份证照片，将由工作人员在服务窗口核验您的身份证。</translation>
    </message>
    <message>
        <location filename="../messages.py" line="275"/>
        <source>Face verification is not working right now. The staff will check your ID card.</source>
        <translation>人脸核验暂时无法使用，将由工作人员核验您的身份证。</translation>
    </message>
    <message>
        <location filename="../messages.py" line="278"/>
        <source>Face verification is still starting. Please wait a moment or choose the staff check.</source>
        <translation>人脸核验正在启动，请稍候或选择人工核验。</translation>
    </message>
    <message>
        <location filename="../messages.py" line="281"/>
        <source>You already have a record at this hospital.</source>
        <translation>您已在本院建档。</translation>
    </message>
    <message>
        <location filename="../messages.py" line="282"/>
        <source>That is not a mainland mobile number. Please check the 11 digits.</source>
        <translation>这不是有效的大陆手机号码，请核对 11 位数字。</translation>
    </message>
    <message>
        <location filename="../messages.py" line="285"/>
        <source>Creating your record…</source>
        <translation>正在建档…</translation>
    </message>
    <message>
        <location filename="../messages.py" line="286"/>
        <source>The hospital system is offline, so your record is pending confirmation. Please take the slip; it is confirmed automatically when the network is back.</source>
        <translation>医院系统暂时离线，您的档案待确认。请取走凭条，网络恢复后将自动确认。</translation>
    </message>
    <message>
        <location filename="../messages.py" line="291"/>
        <source>There is no record for you yet. Create one with the button below, or ask at the service desk.</source>
        <translation>您在本院还没有档案。请点击下方按钮建档，或到服务台咨询。</translation>
    </message>
    <message>
        <location filename="../messages.py" line="294"/>
        <source>That is a payment code. First identify yourself with your card or visit-card QR code.</source>
        <translation>这是付款码。请先用证件或就诊卡二维码识别身份。</translation>
    </message>
    <message>
        <location filename="../messages.py" line="297"/>
        <source>This code is not a visit card or medical-insurance e-voucher. Please try your ID card.</source>
        <translation>无法识别此二维码（不是就诊卡或医保电子凭证），请使用身份证。</translation>
    </message>
    <message>
        <location filename="../messages.py" line="300"/>
        <source>Your face was not recognised with these digits. Please use your card or visit-card QR code.</source>
        <translation>未能识别您的面部（或手机号后四位不符）。请使用证件或就诊卡二维码。</translation>
    </message>
    <message>
        <location filename="../messages.py" line="303"/>
        <source>The hospital system cannot be reached and this card has not been used here recently.</source>
        <translation>暂时无法连接医院系统，且本机没有此卡的近期记录。</translation>
    </message>
    <message>
        <location filename="../messages.py" line="306"/>
        <source>This service is coming soon. Please use the service desk for now.</source>
        <translation>该业务即将开放，目前请到服务台办理。</translation>
    </message>
    <message>
        <location filename="../messages.py" line="310"/>
        <source>You have no paid registration from today on to cancel.</source>
        <translation>您没有今天及以后可退的已缴费挂号。</translation>
    </message>
    <message>
        <location filename="../messages.py" line="311"/>
        <source>None of your registrations can be cancelled at the kiosk now. Please ask at the cashier window.</source>
        <translation>您的挂号目前都不能在自助机退号，请到收费窗口办理。</translation>
    </message>
    <message>
        <location filename="../messages.py" line="314"/>
        <source>It is too late to cancel this registration here. Please ask at the cashier window.</source>
        <translation>已过自助退号时间，请到收费窗口办理。</translation>
    </message>
    <message>
        <location filename="../messages.py" line="317"/>
        <source>Your visit has already begun, so it cannot be cancelled here. Please ask at the cashier window.</source>
        <translation>您已开始就诊，不能在自助机退号，请到收费窗口办理。</translation>
    </message>
    <message>
        <location filename="../messages.py" line="320"/>
        <source>This registration cannot be cancelled at the kiosk. Please ask at the cashier window.</source>
        <translation>该挂号不能在自助机退号，请到收费窗口办理。</translation>
    </message>
    <message>
        <location filename="../messages.py" line="323"/>
        <source>Your registration is cancelled. The refund is being processed and goes back to the account that paid.</source>
        <translation>已退号。退款正在处理中，将原路退回支付账户。</translation>
    </message>
    <message>
        <location filename="../messages.py" line="327"/>
        <source>Your registration is cancelled, but the refund could not be made automatically. Please take the slip to the cashier window.</source>
        <translation>已退号，但未能自动退款。请持凭条到收费窗口办理退款。</translation>
    </message>
    <message>
        <location filename="../messages.py" line="332"/>
        <source>The refund could not be confirmed yet. The hospital completes it; please keep the slip and ask at the cashier window if it does not arrive.</source>
        <translation>退款结果暂未确认，医院将继续处理；请保留凭条，如未到账请到收费窗口查询。</translation>
    </message>
    <message>
        <location filename="../messages.py" line="337"/>
        <source>The hospital system cannot be reached, so cancelling is not possible now. Nothing was changed.</source>
        <translation>暂时无法连接医院系统，现在不能退号。您的挂号未作任何改动。</translation>
    </message>
    <message>
        <location filename="../messages.py" line="340"/>
        <source>It is now too late to cancel this registration here. Nothing was changed.</source>
        <translation>现已超过自助退号时间，您的挂号未作任何改动。</translation>
    </message>
    <message>
        <location filename="../messages.py" line="343"/>
        <source>Your visit has already begun, so it cannot be cancelled here. Nothing was changed.</source>
        <translation>您已开始就诊，不能在自助机退号。您的挂号未作任何改动。</translation>
    </message>
    <message>
        <location filename="../messages.py" line="346"/>
        <source>This registration has already been cancelled.</source>
        <translation>该挂号已退。</translation>
    </message>
    <message>
        <location filename="../messages.py" line="349"/>
        <source>The fee of this registration has already been refunded.</source>
        <translation>该挂号费已退款。</translation>
    </message>
    <message>
        <location filename="../messages.py" line="352"/>
        <source>No slip of yours was printed at this kiosk recently.</source>
        <translation>本机近期没有您的打印记录。</translation>
    </message>
    <message>
        <location filename="../messages.py" line="353"/>
        <source>This slip has been reprinted as often as allowed. Please ask the staff for another copy.</source>
        <translation>该凭条补打次数已达上限，如需再打请找工作人员。</translation>
    </message>
    <message>
        <location filename="../messages.py" line="357"/>
        <source>The money is in your prepaid account.</source>
        <translation>充值已到账。</translation>
    </message>
    <message>
        <location filename="../messages.py" line="358"/>
        <source>The payment result is not known yet. Please do not pay again: if the money was taken, it is added to your account automatically. Check your balance later or ask at the cashier window.</source>
        <translation>支付结果暂未确认，请勿重复支付：如已扣款，系统会自动充入您的账户。请稍后查询余额或到收费窗口咨询。</translation>
    </message>
    <message>
        <location filename="../messages.py" line="363"/>
        <source>The hospital system cannot be reached, so no top-up is possible now and nothing was charged. Please try again later or go to the cashier window.</source>
        <translation>医院系统暂时无法连接，现在不能充值，未扣任何费用。请稍后再试或到收费窗口办理。</translation>
    </message>
    <message>
        <location filename="../messages.py" line="368"/>
        <source>Please choose an amount within the limits shown.</source>
        <translation>请选择屏幕所示范围内的金额。</translation>
    </message>
    <message>
        <location filename="../messages.py" line="370"/>
        <source>You have no booked visits today.</source>
        <translation>您今天没有预约的就诊。</translation>
    </message>
    <message>
        <location filename="../messages.py" line="371"/>
        <source>You are checked in. Please take your slip to the waiting area.</source>
        <translation>取号成功，请持凭条到候诊区候诊。</translation>
    </message>
    <message>
        <location filename="../messages.py" line="372"/>
        <source>It is too early to check in for this visit. Please come back at the check-in time shown.</source>
        <translation>现在取号还太早，请在显示的取号时间再来。</translation>
    </message>
    <message>
        <location filename="../messages.py" line="375"/>
        <source>The check-in time for this visit has passed. Please go to the service desk.</source>
        <translation>该预约的取号时间已过，请到服务台办理。</translation>
    </message>
    <message>
        <location filename="../messages.py" line="378"/>
        <source>This booking was cancelled. Please go to the service desk.</source>
        <translation>该预约已取消，请到服务台咨询。</translation>
    </message>
    <message>
        <location filename="../messages.py" line="381"/>
        <source>This booking was marked as missed. Please go to the service desk.</source>
        <translation>该预约已记为爽约，请到服务台咨询。</translation>
    </message>
    <message>
        <location filename="../messages.py" line="384"/>
        <source>This visit is already checked in.</source>
        <translation>该预约已取号。</translation>
    </message>
    <message>
        <location filename="../messages.py" line="385"/>
        <source>This booking was not found. Please go to the service desk.</source>
        <translation>未找到该预约，请到服务台咨询。</translation>
    </message>
    <message>
        <location filename="../messages.py" line="388"/>
        <source>There are no reports for you yet.</source>
        <translation>您暂时没有检验、检查报告。</translation>
    </message>
    <message>
        <location filename="../messages.py" line="389"/>
        <location filename="../messages.py" line="404"/>
        <source>This report is not ready yet. Please come back later.</source>
        <translation>该报告尚未出具，请稍后再来。</translation>
    </message>
    <message>
        <location filename="../messages.py" line="390"/>
        <source>Your report is printed. Please take it from the slot below.</source>
        <translation>报告已打印，请从下方出纸口取走。</translation>
    </message>
    <message>
        <location filename="../messages.py" line="391"/>
        <source>The printer is out of paper. That copy does not count: after the staff refill it, touch the report to print it again.</source>
        <translation>打印报告时打印机缺纸。这一份不计入打印次数：工作人员补纸后，请点击该报告重新打印。</translation>
    </message>
    <message>
        <location filename="../messages.py" line="396"/>
        <source>The report could not be printed. That copy does not count: touch the report to try again, or ask the staff for help.</source>
        <translation>报告未能打印。这一份不计入打印次数：请点击该报告重试，或请工作人员协助。</translation>
    </message>
    <message>
        <location filename="../messages.py" line="401"/>
        <source>This report has already been printed. Please tell us why you need another copy.</source>
        <translation>该报告已打印过。如需再打印一份，请选择补打原因。</translation>
    </message>
    <message>
        <location filename="../messages.py" line="407"/>
        <source>This report was not found. Please go to the service desk.</source>
        <translation>未找到该报告，请到服务台咨询。</translation>
    </message>
    <message>
        <location filename="../messages.py" line="411"/>
        <source>Shift opened.</source>
        <translation>已开班。</translation>
    </message>
    <message>
        <location filename="../messages.py" line="412"/>
        <source>Welcome back: your shift continues.</source>
        <translation>欢迎回来，班次继续。</translation>
    </message>
    <message>
        <location filename="../messages.py" line="413"/>
        <source>Window locked. Sign in again to continue the shift.</source>
        <translation>窗口已锁定，重新登录后继续当前班次。</translation>
    </message>
    <message>
        <location filename="../messages.py" line="414"/>
        <source>Signed out after a long pause. Please sign in again: your shift continues.</source>
        <translation>长时间未操作已退出登录，请重新登录，班次继续。</translation>
    </message>
    <message>
        <location filename="../messages.py" line="417"/>
        <source>Enter the staff number and the PIN.</source>
        <translation>请输入工号和密码。</translation>
    </message>
    <message>
        <location filename="../messages.py" line="418"/>
        <source>This patient has nothing left to pay.</source>
        <translation>该患者没有待缴费项目。</translation>
    </message>
    <message>
        <location filename="../messages.py" line="419"/>
        <source>Select at least one bill or registration.</source>
        <translation>请至少选择一项费用或挂号。</translation>
    </message>
    <message>
        <location filename="../messages.py" line="420"/>
        <source>The insurance covers all of it: nothing to pay.</source>
        <translation>医保已全额支付，无需缴费。</translation>
    </message>
    <message>
        <location filename="../messages.py" line="421"/>
        <source>A payment code pays one order: select only the bills, or a single registration.</source>
        <translation>一个付款码只能支付一笔订单：请只选择费用，或只选择一个挂号。</translation>
    </message>
    <message>
        <location filename="../messages.py" line="424"/>
        <source>The amount tendered is less than the amount due.</source>
        <translation>实收金额少于应收金额。</translation>
    </message>
    <message>
        <location filename="../messages.py" line="425"/>
        <source>Enter the reference number printed by the POS terminal.</source>
        <translation>请输入POS机打印的参考号。</translation>
    </message>
    <message>
        <location filename="../messages.py" line="428"/>
        <source>Paid. The receipt is printing.</source>
        <translation>收费成功，正在打印凭条。</translation>
    </message>
    <message>
        <location filename="../messages.py" line="429"/>
        <source>Nothing was recorded. Give the money back to the patient and try again.</source>
        <translation>收费未记录，请将钱款退还患者后重试。</translation>
    </message>
    <message>
        <location filename="../messages.py" line="432"/>
        <source>The payment could not be confirmed yet. Do not take the money again: the end-of-shift report reconciles it with the hospital system.</source>
        <translation>暂时无法确认收费结果，请勿重复收费：交班时将与医院系统对账。</translation>
    </message>
    <message>
        <location filename="../messages.py" line="437"/>
        <source>This patient has no payment of the last 30 days to refund.</source>
        <translation>该患者近30天内没有可退费的支付。</translation>
    </message>
    <message>
        <location filename="../messages.py" line="440"/>
        <source>Enter an amount up to what was paid.</source>
        <translation>请输入不超过原支付金额的退费金额。</translation>
    </message>
    <message>
        <location filename="../messages.py" line="441"/>
        <source>Choose the reason for the refund.</source>
        <translation>请选择退费原因。</translation>
    </message>
    <message>
        <location filename="../messages.py" line="442"/>
        <location filename="../messages.py" line="485"/>
        <source>Refund the card on the POS terminal first, then enter its reference number.</source>
        <translation>请先在POS机上退款，再输入其参考号。</translation>
    </message>
    <message>
        <location filename="../messages.py" line="445"/>
        <source>The refund was not made. Nothing was changed.</source>
        <translation>未退费，未做任何更改。</translation>
    </message>
    <message>
        <location filename="../messages.py" line="446"/>
        <source>Refund made.</source>
        <translation>退费成功。</translation>
    </message>
    <message>
        <location filename="../messages.py" line="447"/>
        <source>Refund accepted; the payment provider is still moving the money back.</source>
        <translation>退费已受理，支付平台正在原路退回。</translation>
    </message>
    <message>
        <location filename="../messages.py" line="450"/>
        <source>The payment provider refused the refund. Nothing was refunded; finance has a work item.</source>
        <translation>支付平台拒绝退款，款项未退回，已通知财务处理。</translation>
    </message>
    <message>
        <location filename="../messages.py" line="453"/>
        <source>The refund could not be confirmed yet. Do not refund again: it is reconciled at the end of the shift.</source>
        <translation>暂时无法确认退费结果，请勿重复退费：交班时将对账。</translation>
    </message>
    <message>
        <location filename="../messages.py" line="457"/>
        <source>Count the cash in the drawer and enter the amount.</source>
        <translation>请清点钱箱现金并输入金额。</translation>
    </message>
    <message>
        <location filename="../messages.py" line="458"/>
        <source>Shift closed: everything reconciles.</source>
        <translation>已交班：对账全部一致。</translation>
    </message>
    <message>
        <location filename="../messages.py" line="459"/>
        <source>Shift closed with differences: see the list and tell your supervisor.</source>
        <translation>已交班，但对账有差异：请查看列表并报告主管。</translation>
    </message>
    <message>
        <location filename="../messages.py" line="462"/>
        <source>Wrong staff number, PIN or card, or the account is locked for a while.</source>
        <translation>工号、密码或证件不正确，或账户已被暂时锁定。</translation>
    </message>
    <message>
        <location filename="../messages.py" line="465"/>
        <source>Another cashier&apos;s shift is open at this window. It must be closed first.</source>
        <translation>本窗口另一位收费员的班次尚未交班，请先交班。</translation>
    </message>
    <message>
        <location filename="../messages.py" line="468"/>
        <source>Your shift is open at another window. Close it there first.</source>
        <translation>您在另一个窗口的班次尚未交班，请先在该窗口交班。</translation>
    </message>
    <message>
        <location filename="../messages.py" line="471"/>
        <source>This shift is closed. Sign in to open a new one.</source>
        <translation>该班次已交班，请登录开始新班次。</translation>
    </message>
    <message>
        <location filename="../messages.py" line="472"/>
        <source>This sign-in belongs to another window. Please sign in again.</source>
        <translation>该登录属于其他窗口，请重新登录。</translation>
    </message>
    <message>
        <location filename="../messages.py" line="475"/>
        <source>Not approved: wrong supervisor number or PIN, not a supervisor, or the cashier themself.</source>
        <translation>未获批准：主管工号或密码错误、无审批权限，或为收费员本人。</translation>
    </message>
    <message>
        <location filename="../messages.py" line="478"/>
        <source>That is more than is left to refund of this payment.</source>
        <translation>超过了该笔支付的可退金额。</translation>
    </message>
    <message>
        <location filename="../messages.py" line="481"/>
        <source>This payment was not completed, so there is nothing to refund.</source>
        <translation>该笔支付未完成，无可退金额。</translation>
    </message>
    <message>
        <location filename="../messages.py" line="484"/>
        <source>This payment was not found.</source>
        <translation>未找到该笔支付。</translation>
    </message>
    <message>
        <location filename="../messages.py" line="488"/>
        <source>This kind of payment cannot be refunded here. Please ask finance.</source>
        <translation>此类支付无法在此退费，请联系财务。</translation>
    </message>
    <message>
        <location filename="../messages.py" line="491"/>
        <source>The bills are no longer held for this payment. Nothing was taken: select them again.</source>
        <translation>费用已不再为本次收费锁定，未收款：请重新选择。</translation>
    </message>
    <message>
        <location filename="../messages.py" line="494"/>
        <source>The hold on the bills expired. Nothing was taken: select them again.</source>
        <translation>费用锁定已过期，未收款：请重新选择。</translation>
    </message>
    <message>
        <location filename="../messages.py" line="497"/>
        <source>A bill changed since it was listed. The list has been refreshed: check it again.</source>
        <translation>费用在列出后有变动，列表已刷新，请重新核对。</translation>
    </message>
    <message>
        <location filename="../messages.py" line="500"/>
        <source>A bill is being paid elsewhere right now (at a kiosk?). Try again in a few minutes.</source>
        <translation>有费用正在别处（如自助机）缴费，请几分钟后再试。</translation>
    </message>
    <message>
        <location filename="../messages.py" line="503"/>
        <source>A bill was cancelled by the hospital.</source>
        <translation>有费用已被医院取消。</translation>
    </message>
    <message>
        <location filename="../messages.py" line="504"/>
        <source>The amount changed since it was shown. Nothing was taken: select the items again.</source>
        <translation>金额已变动，未收款：请重新选择项目。</translation>
    </message>
    <message>
        <location filename="../messages.py" line="507"/>
        <source>Already paid elsewhere meanwhile. Nothing was taken: the list has been refreshed.</source>
        <translation>已在别处缴费，未收款：列表已刷新。</translation>
    </message>
    <message>
        <location filename="../messages.py" line="510"/>
        <source>This registration was cancelled meanwhile.</source>
        <translation>该挂号已被取消。</translation>
    </message>
    <message>
        <location filename="../messages.py" line="513"/>
        <source>A payment for this is still being confirmed. Try again in a minute.</source>
        <translation>此项的支付仍在确认中，请一分钟后再试。</translation>
    </message>
    <message>
        <location filename="../messages.py" line="516"/>
        <source>No patient with this visit card.</source>
        <translation>未找到该就诊卡对应的患者。</translation>
    </message>
    <message>
        <location filename="../messages.py" line="517"/>
        <source>The hospital system did not accept these details. Please check them.</source>
        <translation>医院系统未接受这些信息，请核对。</translation>
    </message>
    <message>
        <location filename="../messages.py" line="520"/>
        <source>This payment was already sent with other details. Please start it again.</source>
        <translation>该笔收费已用其他信息提交过，请重新开始。</translation>
    </message>
</context>
</TS>
