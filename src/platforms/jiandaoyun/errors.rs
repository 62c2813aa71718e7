//! Every error Jiandaoyun can answer, as one table: code, HTTP status, English and Chinese message.
//!
//! Numbers and texts follow the official error table (开发指南 » 错误码). All business errors are HTTP 400
//! with `{"code": <int>, "msg": "<text>"}`; workflow actions use `{"status":"failure","code","message"}`.
//! The same table serves handlers and fault injection (`error = "rate_limited"` → 8304).

use serde_json::json;

use crate::http::Response;
use crate::platforms::PlatformError;
use crate::Locale;

/// (code, English, Chinese). Order follows the official table.
const TABLE: &[(u32, &str, &str)] = &[
    (1, "The request is invalid.", "错误的请求"),
    (1005, "The email already exists.", "邮箱已存在"),
    (1010, "The member doesn't exist.", "用户不存在"),
    (1017, "The username is in an invalid format.", "用户名不符合格式要求"),
    (1018, "The email is in an invalid format.", "用户邮箱不符合格式要求"),
    (1019, "The member's nickname is in an invalid format.", "用户昵称不符合格式要求"),
    (1022, "The member's current company/team doesn't exist.", "用户团队不存在"),
    (1024, "The mobile number is invalid.", "手机号码不正确"),
    (1027, "The phone number already exists.", "手机号码已存在"),
    (1058, "Do not have permission to call the task list.", "用户操作权限不足"),
    (1065, "The member has already been added to the team.", "当前用户已加入团队"),
    (1082, "The phone number/email is required.", "手机号和邮箱不能同时为空"),
    (1085, "The member's nickname is required.", "昵称不能为空"),
    (1087, "Duplicate unique fields.", "唯一性字段重复"),
    (1092, "The length of the username has exceeded the limit.", "工号长度超出限制"),
    (1096, "The request contains invalid member parameter(s).", "用户参数不合法"),
    (1201, "The role doesn't exist.", "企业角色信息不存在"),
    (1202, "Unable to operate synchronized role or role groups", "无法操作同步的角色/角色组"),
    (1203, "The role group/role information is invalid.", "角色/角色组信息不合法"),
    (1205, "The role group is required.", "必须指定角色组"),
    (1206, "The role group doesn't exist.", "指定的角色组不存在"),
    (1207, "The length of the role group name has exceeded the limit.", "角色/角色组名称长度超限"),
    (1208, "Can't delete a role group with member(s).", "非空角色组不能删除"),
    (2004, "The app doesn't exist.", "应用不存在"),
    (3000, "The form doesn't exist.", "表单不存在"),
    (3001, "The member or department name is required.", "名称不能为空"),
    (3005, "The request contains invalid parameter(s).", "参数不正确"),
    (4000, "Failed to submit data.", "数据提交失败"),
    (4001, "Data doesn't exist.", "数据不存在"),
    (4005, "Revoke is not allowed.", "操作失败，不允许撤回"),
    (4007, "No approver for the workflow.", "操作失败，没有流程处理人"),
    (4008, "The workflow was closed.", "操作失败，流程已经关闭"),
    (4009, "Do not have permission to approve.", "操作失败，无权限"),
    (4012, "Operation failed. This form is being used in other batch editing tasks.", "操作失败，当前表单正在执行其他批量编辑任务"),
    (4015, "The approver of the transferred node is invalid.", "操作失败，当前节点不存在该候选人"),
    (4016, "The workflow can't be transferred to oneself.", "操作失败，流程不能转交给自己"),
    (4025, "Do not have permission for the workflow.", "您没有数据流程权限"),
    (4026, "A running workflow can't be activated.", "流程状态，进行中流程无法激活"),
    (4042, "Failed to delete the data.", "数据删除失败"),
    (4815, "The filter condition is invalid.", "过滤条件设置有误"),
    (5003, "The workflow node doesn't exist.", "流程节点不存在"),
    (5004, "No comment for approval.", "未提交流程审批意见"),
    (5009, "The approver of the returned node is invalid.", "找不到回退后的负责人"),
    (5011, "The target node is invalid.", "找不到流转节点"),
    (5025, "The current node has already been completed.", "当前节点已经流转完成"),
    (5056, "Workflow operations are not available on a non-workflow form.", "不能对非流程表单进行流程操作"),
    (6000, "There is a sub-department with the same name.", "已存在同名部门"),
    (6001, "The parent department doesn't exist.", "父部门不存在"),
    (6002, "The department doesn't exist.", "部门不存在"),
    (6003, "Can't delete a department with sub-department(s).", "存在子部门，不能删除"),
    (6006, "Can't delete a department with member(s).", "部门内存在成员，不能删除"),
    (6015, "Can't delete a root department.", "根部门不能被删除"),
    (7212, "Monthly data exceeds the limit.", "该账号的本月数据流量已用完，无法提交新数据"),
    (8017, "Company/Team doesn't exist or has been closed.", "企业不存在或者已经被解散"),
    (8301, "Failed to verify the API key for authorization.", "API 签名校验失败"),
    (8302, "Do not have permission for the API calls.", "没有接口请求权限"),
    (8303, "The call frequency of the company/team exceeds the frequency limit.", "企业 API 请求次数达到频率上限"),
    (8304, "The call frequency exceeds the frequency limit.", "当前接口请求次数达到频率上限"),
    (9004, "Failed to create the task.", "队列任务创建失败"),
    (9007, "Failed to obtain the lock.", "锁获取失败"),
    (17017, "The request contains invalid parameter(s).", "平台 API 的参数异常"),
    (17018, "The API key is invalid.", "无效的 API Key"),
    (17023, "The batch update at one time exceeds the limit.", "单次批量修改数量超出限制"),
    (17024, "The batch creation at one time exceeds the limit.", "单次批量创建数量超出限制"),
    (17025, "The transaction_id contains invalid parameter(s).", "transaction_id 参数格式不正确"),
    (17026, "The transaction_id already exists.", "transaction_id 重复"),
    (17027, "Failed to upload the API file.", "API 文件上传失败"),
    (17032, "The field type isn't supported.", "不支持的字段类型"),
    (17033, "The limit for batch deletion quantity has been exceeded.", "批量删除数据超出数量限制"),
    (17034, "The sub-field type isn't supported.", "不支持的子表单字段类型"),
    (17052, "Not included in the IP whitelist.", "不在 IP 白名单内"),
    (17053, "Not among the authorized apps.", "不在应用授权范围内"),
    (17054, "Not among the authorized APIs.", "不在接口授权范围内"),
    (30002, "Unable to retrieve the pre-set CRM form now.", "CRM 预设表单暂不支持调用"),
    (3041, "The number of Serial No. fields has exceeded the limit.", "单个表单流水号控件数量超出上限"),
    (3042, "Failed to verify the field alias.", "字段别名校验失败"),
    (3083, "The number of widgets has exceeded the limit.", "控件数量超过上限"),
    (3091, "The number of characters in the form name exceeds 100.", "表单名称不能超过 100 个字符"),
    (3092, "The number of characters in the title exceeds 100.", "标题不能超过 100 个字符"),
    (4402, "Failed to validate the aggregation calculation.", "聚合计算校验失败"),
    (5012, "No signature for approval.", "未提交流程手写签名"),
    (5034, "This node has child workflow(s)/plugin node(s).", "目标节点包含子流程/插件节点"),
    (5044, "The child workflow is wrongly configured.", "子流程配置错误或找不到发起人"),
    (5045, "The number of child workflow exceeds 200.", "发起子流程数据超过上限 200"),
    (5049, "The Transfer feature hasn't been enabled at this node.", "当前流程节点未开启转交"),
    (5053, "The initial department is invalid.", "流入多级主管审批节点失败，未指定发起部门"),
    (6004, "Failed to update the department.", "部门修改失败"),
    (6005, "Failed to create the department.", "部门创建失败"),
    (6010, "The department ID is in an invalid format.", "部门编号不在合法范围内"),
    (6011, "There is a circular relationship among departments.", "部门关系存在循环"),
    (6012, "The department name is invalid.", "部门名称不合法"),
    (6013, "The department ID already exists.", "部门编号重复"),
    (6014, "There must be at least one sub-department belonging to the root department.", "至少需要一个子部门属于根部门"),
    (6017, "The number of cascade levels in the department exceeds the limit.", "部门级联层数超出限制"),
    (6019, "The member list is required.", "成员列表不能为空"),
    (6020, "The number of departments in a single import exceeds the limit.", "单次导入部门数量超出限制"),
    (6021, "The number of members in a single import exceeds the limit.", "单次导入成员数量超出限制"),
    (6064, "The parent department already exists.", "已是目标部门的子部门"),
    (7103, "System usage exceeds the limit.", "系统用量超出限制，系统已暂停使用"),
    (7206, "System limit exceeded. The system has been disabled.", "系统用量超出限制，系统已暂停使用"),
    (7216, "Attachment upload limit exceeded (link creator).", "附件上传量超过当前版本限制"),
    (7217, "Attachment upload limit exceeded (business owner).", "附件上传量超过当前版本限制"),
    (7218, "Attachment upload limit exceeded. Purchase cloud coins (link).", "附件上传量超过当前版本限制"),
    (7219, "Attachment upload limit exceeded. Purchase cloud coins (owner).", "附件上传量超过当前版本限制"),
    (7221, "This form has exceeded the limit.", "API 新增数据超出当前版本限制"),
    (50000, "The target node doesn't exist.", "目标节点不存在"),
    (50004, "The task doesn't exist.", "待办任务不存在"),
    (50008, "Workflow processing error.", "流转异常"),
    (50011, "The task doesn't exist.", "执行实例不存在"),
    (50014, "No permission to close the task.", "操作人不能为空"),
    (50016, "The instance_id is invalid.", "流程实例不存在"),
    (50019, "The action is not supported.", "不支持的审批行为"),
    (50021, "The data_id is invalid.", "关联业务对象不存在"),
    (50031, "The data_id is invalid.", "流程数据不存在"),
    (50040, "This node can't be returned.", "当前节点禁止回退"),
    (50041, "Can't return to the current node.", "回退节点为当前节点"),
    (50047, "Workflow being migrated. Try again later.", "流程迁移中"),
    (50049, "Can't return to the Start Node without an initiator.", "不允许回退到没有创建者的发起节点"),
    (50051, "The workflow has been approved/transferred/returned.", "流程已被处理"),
    (50053, "No approver to add.", "加签候选人列表不能为空"),
    (50054, "Can't add nested approval.", "不支持嵌套加签"),
    (50055, "No pre-approver or post-approver was added.", "仅支持前后加签任务处理"),
    (50056, "The parent task is lost.", "加签父任务丢失，可能已经被处理"),
    (50057, "The Add Approver feature hasn't been enabled.", "加签配置未开启"),
    (50059, "The member has been added as an approver.", "加签候选人不能选择节点负责人"),
    (50060, "The approver is invalid.", "加签候选人非法"),
    (50061, "Can't add more than one approver.", "不支持多人加签"),
    (50062, "The added approver is reviewing the task.", "待被加签人处理中"),
    (50070, "Can't return to the plugin node.", "不允许回退到插件节点"),
    (50073, "Can't return to the in-progress node.", "禁止回退到进行中节点"),
    (50082, "The choice of back type is missing.", "缺少回退人选择"),
    (5006, "The data can't flow to a CC node.", "无法将数据流转到抄送节点"),
    (5008, "The approver could not be found.", "找不到对应的负责人"),
    (5010, "The workflow data is invalid.", "无效的流程数据"),
    (5024, "The current member has no permission to submit at this node.", "当前用户对该节点无提交权限"),
    (5026, "Batch approval of workflow nodes failed.", "流程节点批量审批失败"),
    (5058, "The data is already linked to a workflow.", "数据已关联流程，不可重复发起"),
    (5059, "The submitter of the data has been deleted.", "数据提交人已被删除"),
    (5060, "This operation is not supported on a non-workflow form.", "非流程表单，不支持该操作"),
    (50009, "The workflow has been handled and can't be revoked.", "流程已被处理，不允许撤回"),
    (50013, "The number of approvers must stay the same.", "负责人调整前后数目必须一致"),
    (50015, "The approvers did not change.", "负责人调整前后无实际变化"),
    (50024, "The approvers can't be empty.", "调整后负责人不能为空"),
    (50034, "The workflow operation type is not supported.", "不支持的流程操作类型"),
    (50046, "Too many historical sub-workflow tasks to activate.", "历史待办（子流程）过多，不允许激活"),
    (50052, "The node does not support this way of adding approvers.", "节点不支持该加签行为"),
    (50063, "Tasks of added approvers can't be submitted in batch.", "被加签待办不可批量提交"),
    (50064, "Asynchronous sub-workflows form a loop.", "异步子流程成环，请调整流程配置"),
    (50071, "Plugin nodes are not available in this plan.", "版本不支持插件节点"),
    (50076, "This node can't be activated.", "该节点不可激活"),
];

/// Names usable in fault rules (`error = "<name>"`), besides any code number written as a string.
pub const NAMED: &[(&str, u32)] = &[
    ("unauthorized", 8301),
    ("invalid_key", 17018),
    ("forbidden", 8302),
    ("app_not_in_scope", 17053),
    ("not_found", 4001),
    ("app_not_found", 2004),
    ("form_not_found", 3000),
    ("invalid_param", 3005),
    ("invalid_request", 1),
    ("invalid_filter", 4815),
    ("submit_failed", 4000),
    ("rate_limited", 8304),
    ("enterprise_rate_limited", 8303),
    ("lock_failed", 9007),
    ("quota_exceeded", 7212),
];

/// A Jiandaoyun business error: a code from [`TABLE`] plus, optionally, a detail the emulator appends
/// to the message (only in `strict_values` mode, where extra help is the point).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JdyError {
    pub code: u32,
    pub detail: Option<String>,
}

impl JdyError {
    pub const fn new(code: u32) -> Self {
        Self { code, detail: None }
    }

    pub fn with_detail(code: u32, detail: impl Into<String>) -> Self {
        Self { code, detail: Some(detail.into()) }
    }

    pub fn message(&self, locale: Locale) -> String {
        let base = message_for(self.code, locale);
        match &self.detail {
            Some(d) => format!("{base} ({d})"),
            None => base.to_owned(),
        }
    }
}

impl PlatformError for JdyError {
    /// HTTP 400 with `{"code","msg"}` — the documented shape of every data/app/contact error.
    fn render(&self, locale: Locale) -> Response {
        Response::json(400, &json!({ "code": self.code, "msg": self.message(locale) }))
    }
}

pub fn message_for(code: u32, locale: Locale) -> &'static str {
    match TABLE.iter().find(|(c, _, _)| *c == code) {
        Some((_, en, zh)) => match locale {
            Locale::En => en,
            _ => zh,
        },
        None => match locale {
            Locale::En => "Unknown error.",
            _ => "未知错误",
        },
    }
}

pub fn is_known(code: u32) -> bool {
    TABLE.iter().any(|(c, _, _)| *c == code)
}

/// Renders a named error for fault injection and server-level failures.
pub fn render_named(name: &str, locale: Locale) -> Option<Response> {
    match name {
        "internal_error" => Some(Response::json(500, &json!({ "code": 500, "msg": internal_msg(locale) }))),
        "payload_too_large" => Some(Response::json(413, &json!({ "code": 1, "msg": message_for(1, locale) }))),
        "concurrency_limited" => Some(Response::json(429, &json!({ "code": 429, "msg": "超出请求并发限制" }))),
        "gateway_error" => Some(Response::json(502, &json!({ "code": 502, "msg": "Bad Gateway" }))),
        _ => {
            let code = NAMED.iter().find(|(n, _)| *n == name).map(|(_, c)| *c).or_else(|| name.parse().ok().filter(|c| is_known(*c)))?;
            Some(JdyError::new(code).render(locale))
        }
    }
}

fn internal_msg(locale: Locale) -> &'static str {
    match locale {
        Locale::En => "Internal server error.",
        _ => "服务器内部错误",
    }
}

/// All names a fault rule may use, for `routes --errors` and the docs.
pub fn error_names() -> Vec<String> {
    let mut v: Vec<String> = NAMED.iter().map(|(n, c)| format!("{n} ({c})")).collect();
    v.extend(
        ["internal_error (HTTP 500)", "payload_too_large (HTTP 413)", "concurrency_limited (HTTP 429)", "gateway_error (HTTP 502)"]
            .map(String::from),
    );
    v.push("<any documented code number, e.g. \"4012\">".into());
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_codes_are_unique() {
        let mut codes: Vec<u32> = TABLE.iter().map(|t| t.0).collect();
        codes.sort_unstable();
        let n = codes.len();
        codes.dedup();
        assert_eq!(codes.len(), n);
    }

    #[test]
    fn named_errors_resolve() {
        for (name, code) in NAMED {
            assert!(is_known(*code), "{name}");
            assert!(render_named(name, Locale::Zh).is_some());
        }
        assert_eq!(render_named("4012", Locale::En).map(|r| r.status), Some(400));
        assert!(render_named("nope", Locale::En).is_none());
    }
}
