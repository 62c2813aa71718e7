"""The official DingTalk SDK (`alibabacloud_dingtalk`) against the emulator's Yida Open API routes, unchanged:
only the endpoint differs. Every assertion reads the SDK's typed models or its TeaException."""
import http.server
import json
import urllib.request

import pytest
from alibabacloud_dingtalk.oauth2_1_0 import client as oauth2_client
from alibabacloud_dingtalk.oauth2_1_0 import models as oauth2_models
from alibabacloud_dingtalk.yida_1_0 import client as yida_client
from alibabacloud_dingtalk.yida_1_0 import models as yida
from alibabacloud_tea_openapi import models as open_api_models
from Tea.exceptions import TeaException

from conftest import launch, receiver

APP = "APP_DEMO0000000000000001"
FORM = "FORM-DEMO00000000000000000000000000000001"
LEAVE_FORM = "FORM-DEMO00000000000000000000000000000002"
LEAVE_PROCESS = "TPROC--DEMO00000000000000000000000000000002"


def config(base):
    return open_api_models.Config(protocol="http", endpoint=base.removeprefix("http://"))


@pytest.fixture(scope="module")
def sdk(emulator):
    return yida_client.Client(config(emulator))


@pytest.fixture(scope="module")
def token(emulator):
    auth = oauth2_client.Client(config(emulator))
    got = auth.get_access_token(oauth2_models.GetAccessTokenRequest(app_key="ding-demo-key", app_secret="ding-demo-secret"))
    assert got.status_code == 200
    assert got.body.expire_in == 7200
    return got.body.access_token


def start_leave(sdk, token, data):
    """Starts a leave request (the demo's process form) as zhangsan; answers the process instance id."""
    return sdk.start_instance_with_options(
        yida.StartInstanceRequest(app_type=APP, form_uuid=LEAVE_FORM, process_code=LEAVE_PROCESS, user_id="zhangsan", form_data_json=json.dumps(data)),
        headers(yida.StartInstanceHeaders, token),
        _runtime(),
    ).body.result


def headers(cls, token):
    h = cls()
    h.x_acs_dingtalk_access_token = token
    return h


def test_a_wrong_secret_is_refused_with_the_gateway_code(emulator):
    auth = oauth2_client.Client(config(emulator))
    with pytest.raises(TeaException) as e:
        auth.get_access_token(oauth2_models.GetAccessTokenRequest(app_key="ding-demo-key", app_secret="wrong"))
    assert e.value.code == "invalidClientIdOrSecret"
    assert e.value.data["statusCode"] == 400


def test_form_data_save_search_update_delete(sdk, token):
    saved = sdk.save_form_data_with_options(
        yida.SaveFormDataRequest(
            app_type=APP,
            form_uuid=FORM,
            user_id="zhangsan",
            form_data_json=json.dumps({"textField_k1a2b3c4": "白板笔", "numberField_k1a2b3c5": 12, "selectField_k1a2b3c6": "销售部"}),
        ),
        headers(yida.SaveFormDataHeaders, token),
        _runtime(),
    )
    instance_id = saved.body.result
    assert instance_id.startswith("FINST-")

    found = sdk.search_form_datas_with_options(
        yida.SearchFormDatasRequest(
            app_type=APP,
            form_uuid=FORM,
            user_id="zhangsan",
            search_field_json=json.dumps({"textField_k1a2b3c4": "白板笔"}),
            current_page=1,
            page_size=10,
        ),
        headers(yida.SearchFormDatasHeaders, token),
        _runtime(),
    )
    assert found.body.total_count == 1
    assert found.body.current_page == 1
    assert found.body.data[0].form_instance_id == instance_id
    assert found.body.data[0].form_data["numberField_k1a2b3c5"] == 12

    ids = sdk.search_form_data_id_list_with_options(
        APP,
        FORM,
        yida.SearchFormDataIdListRequest(user_id="zhangsan", page_number=1, page_size=100),
        headers(yida.SearchFormDataIdListHeaders, token),
        _runtime(),
    )
    assert instance_id in ids.body.data
    assert ids.body.total_count == 4  # three seeded records and this one

    updated = sdk.update_form_data_with_options(
        yida.UpdateFormDataRequest(
            app_type=APP,
            form_instance_id=instance_id,
            user_id="zhangsan",
            update_form_data_json=json.dumps({"numberField_k1a2b3c5": 13}),
        ),
        headers(yida.UpdateFormDataHeaders, token),
        _runtime(),
    )
    assert updated.status_code == 200
    again = sdk.search_form_datas_with_options(
        yida.SearchFormDatasRequest(
            app_type=APP, form_uuid=FORM, user_id="zhangsan", search_field_json=json.dumps({"textField_k1a2b3c4": "白板笔"})
        ),
        headers(yida.SearchFormDatasHeaders, token),
        _runtime(),
    )
    assert again.body.data[0].form_data["numberField_k1a2b3c5"] == 13

    deleted = sdk.delete_form_data_with_options(
        yida.DeleteFormDataRequest(app_type=APP, form_instance_id=instance_id, user_id="zhangsan"),
        headers(yida.DeleteFormDataHeaders, token),
        _runtime(),
    )
    assert deleted.status_code == 200
    gone = sdk.search_form_datas_with_options(
        yida.SearchFormDatasRequest(
            app_type=APP, form_uuid=FORM, user_id="zhangsan", search_field_json=json.dumps({"textField_k1a2b3c4": "白板笔"})
        ),
        headers(yida.SearchFormDatasHeaders, token),
        _runtime(),
    )
    assert gone.body.total_count == 0


def test_a_process_from_start_to_agreement(sdk, token, emulator):
    process_id = start_leave(sdk, token, {"textField_l1a2b3c4": "病假", "numberField_l1a2b3c5": 1})
    info = sdk.get_instance_by_id_with_options(
        process_id,
        yida.GetInstanceByIdRequest(app_type=APP, user_id="zhangsan"),
        headers(yida.GetInstanceByIdHeaders, token),
        _runtime(),
    )
    assert info.body.instance_status == "RUNNING"
    approver = info.body.action_executor[0].user_id

    running = sdk.get_instance_id_list_with_options(
        yida.GetInstanceIdListRequest(app_type=APP, form_uuid=LEAVE_FORM, user_id="zhangsan", instance_status="RUNNING", page_number=1, page_size=10),
        headers(yida.GetInstanceIdListHeaders, token),
        _runtime(),
    )
    assert process_id in running.body.data

    # The SDK alone cannot list tasks yet (no running-task route is served); the in-app to-do list can.
    import urllib.request

    todo_url = f"{emulator}/dingtalk/web/{APP}/v1/task/getTodoTasksInApp.json"
    req = urllib.request.Request(todo_url, headers={"x-emu-user": approver})
    todo = json.load(urllib.request.urlopen(req))
    task_id = next(t["taskId"] for t in todo["result"]["data"] if t["processInstanceId"] == process_id)

    executed = sdk.execute_task_with_options(
        yida.ExecuteTaskRequest(
            app_type=APP, process_instance_id=process_id, task_id=int(task_id), user_id=approver, out_result="AGREE", remark="好"
        ),
        headers(yida.ExecuteTaskHeaders, token),
        _runtime(),
    )
    assert executed.status_code == 200
    done = sdk.get_instances_with_options(
        yida.GetInstancesRequest(app_type=APP, form_uuid=LEAVE_FORM, user_id="zhangsan", instance_status="COMPLETED", page_number=1, page_size=10),
        headers(yida.GetInstancesHeaders, token),
        _runtime(),
    )
    mine = [d for d in done.body.data if d.process_instance_id == process_id]
    assert mine and mine[0].approved_result == "agree"


def test_terminating_an_instance(sdk, token):
    process_id = start_leave(sdk, token, {"textField_l1a2b3c4": "事假"})
    sdk.terminate_instance_with_options(
        yida.TerminateInstanceRequest(app_type=APP, process_instance_id=process_id, user_id="zhangsan"),
        headers(yida.TerminateInstanceHeaders, token),
        _runtime(),
    )
    info = sdk.get_instance_by_id_with_options(
        process_id, yida.GetInstanceByIdRequest(app_type=APP, user_id="zhangsan"), headers(yida.GetInstanceByIdHeaders, token), _runtime()
    )
    assert info.body.instance_status == "TERMINATED"


def test_a_forged_token_is_a_tea_exception(sdk):
    with pytest.raises(TeaException) as e:
        sdk.search_form_datas_with_options(
            yida.SearchFormDatasRequest(app_type=APP, form_uuid=FORM, user_id="zhangsan"),
            headers(yida.SearchFormDatasHeaders, "forged"),
            _runtime(),
        )
    assert e.value.code == "InvalidAuthentication"
    assert e.value.data["statusCode"] == 401


def test_a_method_the_emulator_does_not_serve_answers_in_the_open_api_shape(sdk, token):
    # Form remarks (comments) are not emulated (see docs/fidelity.md).
    with pytest.raises(TeaException) as e:
        sdk.list_form_remarks_with_options(
            yida.ListFormRemarksRequest(app_type=APP, form_uuid=FORM, user_id="zhangsan", form_instance_id_list=["FINST-X"]),
            headers(yida.ListFormRemarksHeaders, token),
            _runtime(),
        )
    assert e.value.code == "InvalidAction.NotFound"
    assert e.value.data["statusCode"] == 404


def _runtime():
    from alibabacloud_tea_util import models as util_models

    return util_models.RuntimeOptions()


def test_definitions_and_sub_form_rows(sdk, token, emulator):
    defs = sdk.get_form_component_definition_list_with_options(
        APP, FORM, yida.GetFormComponentDefinitionListRequest(user_id="zhangsan"), headers(yida.GetFormComponentDefinitionListHeaders, token), _runtime()
    )
    fields = {c.field_id: c.component_name for c in defs.body.result}
    assert fields["textField_k1a2b3c4"] == "TextField"
    assert fields["tableField_k1a2b3c9"] == "TableField"
    assert json.loads(next(c.label for c in defs.body.result if c.field_id == "textField_k1a2b3c4"))["zh_CN"] == "物品"

    # The seeded 签字笔 record has two sub-form rows.
    found = sdk.search_form_datas_with_options(
        yida.SearchFormDatasRequest(app_type=APP, form_uuid=FORM, user_id="zhangsan", search_field_json=json.dumps({"textField_k1a2b3c4": "签字笔"})),
        headers(yida.SearchFormDatasHeaders, token),
        _runtime(),
    )
    record = found.body.data[0].form_instance_id
    rows = sdk.list_table_data_by_form_instance_id_table_id_with_options(
        record,
        yida.ListTableDataByFormInstanceIdTableIdRequest(
            app_type=APP, form_uuid=FORM, user_id="zhangsan", table_field_id="tableField_k1a2b3c9", page_number=1, page_size=1
        ),
        headers(yida.ListTableDataByFormInstanceIdTableIdHeaders, token),
        _runtime(),
    )
    assert rows.body.total_count == 2
    assert rows.body.page_number == 1
    assert len(rows.body.data) == 1


def test_an_approver_finds_and_approves_a_task_with_the_sdk_alone(sdk, token):
    process_id = start_leave(sdk, token, {"textField_l1a2b3c4": "调休", "numberField_l1a2b3c5": 2})
    running = sdk.get_running_tasks_with_options(
        yida.GetRunningTasksRequest(app_type=APP, process_instance_id=process_id, user_id="zhangsan"),
        headers(yida.GetRunningTasksHeaders, token),
        _runtime(),
    )
    assert len(running.body.result) == 1
    task = running.body.result[0]
    approver = task.actual_actioner_id
    assert task.process_instance_id == process_id

    todo = sdk.get_corp_tasks_with_options(
        yida.GetCorpTasksRequest(user_id=approver, app_types=APP, page_number=1, page_size=100),
        headers(yida.GetCorpTasksHeaders, token),
        _runtime(),
    )
    mine = [t for t in todo.body.data if t.process_instance_id == process_id]
    assert mine and mine[0].task_id == task.task_id and mine[0].status == "NEW"

    sdk.execute_task_with_options(
        yida.ExecuteTaskRequest(app_type=APP, process_instance_id=process_id, task_id=int(task.task_id), user_id=approver, out_result="AGREE", remark="准"),
        headers(yida.ExecuteTaskHeaders, token),
        _runtime(),
    )
    records = sdk.get_operation_records_with_options(
        yida.GetOperationRecordsRequest(app_type=APP, process_instance_id=process_id, user_id="zhangsan"),
        headers(yida.GetOperationRecordsHeaders, token),
        _runtime(),
    )
    kinds = [(r.type, r.operator_user_id) for r in records.body.result]
    assert kinds[0] == ("HISTORY", "zhangsan")
    assert ("HISTORY", approver) in kinds
    assert all(r.operate_time_gmt for r in records.body.result if r.type == "HISTORY")


def test_updating_and_deleting_a_process_instance(sdk, token):
    process_id = start_leave(sdk, token, {"textField_l1a2b3c4": "婚假"})
    sdk.update_instance_with_options(
        yida.UpdateInstanceRequest(app_type=APP, process_instance_id=process_id, user_id="zhangsan", update_form_data_json=json.dumps({"numberField_l1a2b3c5": 10})),
        headers(yida.UpdateInstanceHeaders, token),
        _runtime(),
    )
    info = sdk.get_instance_by_id_with_options(
        process_id, yida.GetInstanceByIdRequest(app_type=APP, user_id="zhangsan"), headers(yida.GetInstanceByIdHeaders, token), _runtime()
    )
    assert info.body.data["numberField_l1a2b3c5"] == 10
    sdk.delete_instance_with_options(
        yida.DeleteInstanceRequest(app_type=APP, process_instance_id=process_id, user_id="zhangsan"), headers(yida.DeleteInstanceHeaders, token), _runtime()
    )
    with pytest.raises(TeaException) as e:
        sdk.get_instance_by_id_with_options(
            process_id, yida.GetInstanceByIdRequest(app_type=APP, user_id="zhangsan"), headers(yida.GetInstanceByIdHeaders, token), _runtime()
        )
    assert e.value.code == "TIANSHU_000003"


def test_batches_of_form_data(sdk, token):
    saved = sdk.batch_save_form_data_with_options(
        yida.BatchSaveFormDataRequest(
            app_type=APP,
            form_uuid=FORM,
            user_id="zhangsan",
            form_data_json_list=[json.dumps({"textField_k1a2b3c4": f"批量{i}", "numberField_k1a2b3c5": i}) for i in range(3)],
        ),
        headers(yida.BatchSaveFormDataHeaders, token),
        _runtime(),
    )
    ids = saved.body.result
    assert len(ids) == 3 and all(i.startswith("FINST-") for i in ids)

    updated = sdk.batch_update_form_data_by_instance_id_with_options(
        yida.BatchUpdateFormDataByInstanceIdRequest(
            app_type=APP, form_uuid=FORM, user_id="zhangsan", form_instance_id_list=ids[:2], update_form_data_json=json.dumps({"numberField_k1a2b3c5": 99})
        ),
        headers(yida.BatchUpdateFormDataByInstanceIdHeaders, token),
        _runtime(),
    )
    assert updated.body.result == ids[:2]

    got = sdk.batch_get_form_data_by_id_list_with_options(
        yida.BatchGetFormDataByIdListRequest(app_type=APP, form_uuid=FORM, user_id="zhangsan", form_instance_id_list=ids),
        headers(yida.BatchGetFormDataByIdListHeaders, token),
        _runtime(),
    )
    assert [r.form_instance_id for r in got.body.result] == ids
    assert [r.form_data["numberField_k1a2b3c5"] for r in got.body.result] == [99, 99, 2]

    sdk.batch_removal_by_form_instance_id_list_with_options(
        yida.BatchRemovalByFormInstanceIdListRequest(app_type=APP, form_uuid=FORM, user_id="zhangsan", form_instance_id_list=ids),
        headers(yida.BatchRemovalByFormInstanceIdListHeaders, token),
        _runtime(),
    )
    with pytest.raises(TeaException) as e:
        sdk.batch_get_form_data_by_id_list_with_options(
            yida.BatchGetFormDataByIdListRequest(app_type=APP, form_uuid=FORM, user_id="zhangsan", form_instance_id_list=ids[:1]),
            headers(yida.BatchGetFormDataByIdListHeaders, token),
            _runtime(),
        )
    assert e.value.code == "TIANSHU_000003"


def test_forms_in_the_app(sdk, token):
    forms = sdk.get_form_list_in_app_with_options(
        yida.GetFormListInAppRequest(app_type=APP, user_id="zhangsan", page_number=1, page_size=10),
        headers(yida.GetFormListInAppHeaders, token),
        _runtime(),
    )
    assert forms.body.success is True
    assert forms.body.result.total_count == 2
    by_uuid = {f.form_uuid: f for f in forms.body.result.data}
    assert by_uuid[FORM].form_type == "receipt" and by_uuid[FORM].title.zh_cn == "物资领用登记"
    assert by_uuid[LEAVE_FORM].form_type == "process"


def test_redirect_then_task_lists(sdk, token):
    process_id = start_leave(sdk, token, {"textField_l1a2b3c4": "产假"})
    task = sdk.get_running_tasks_with_options(
        yida.GetRunningTasksRequest(app_type=APP, process_instance_id=process_id, user_id="zhangsan"),
        headers(yida.GetRunningTasksHeaders, token),
        _runtime(),
    ).body.result[0]
    approver = task.actual_actioner_id
    other = "zhaoliu" if approver != "zhaoliu" else "wangwu"
    with pytest.raises(TeaException) as e:
        sdk.redirect_task_with_options(
            yida.RedirectTaskRequest(app_type=APP, process_instance_id=process_id, task_id=int(task.task_id), user_id=other, now_action_executor_id=other, by_manager="n"),
            headers(yida.RedirectTaskHeaders, token),
            _runtime(),
        )
    assert e.value.data["statusCode"] == 403, "only the assignee (or a manager) may hand a task on"
    sdk.redirect_task_with_options(
        yida.RedirectTaskRequest(app_type=APP, process_instance_id=process_id, task_id=int(task.task_id), user_id=approver, now_action_executor_id=other, remark="请代办"),
        headers(yida.RedirectTaskHeaders, token),
        _runtime(),
    )
    now = sdk.get_running_tasks_with_options(
        yida.GetRunningTasksRequest(app_type=APP, process_instance_id=process_id, user_id="zhangsan"),
        headers(yida.GetRunningTasksHeaders, token),
        _runtime(),
    ).body.result
    assert [t.actual_actioner_id for t in now] == [other]
    sdk.execute_task_with_options(
        yida.ExecuteTaskRequest(app_type=APP, process_instance_id=process_id, task_id=int(now[0].task_id), user_id=other, out_result="AGREE", remark="好"),
        headers(yida.ExecuteTaskHeaders, token),
        _runtime(),
    )
    done = sdk.get_corp_accomplishment_tasks_with_options(
        "corp", other, yida.GetCorpAccomplishmentTasksRequest(app_types=APP, page_number=1, page_size=100), headers(yida.GetCorpAccomplishmentTasksHeaders, token), _runtime()
    )
    assert any(t.process_instance_id == process_id and t.status == "COMPLETED" for t in done.body.data)
    mine = sdk.get_me_corp_submission_with_options(
        "zhangsan", yida.GetMeCorpSubmissionRequest(app_types=APP, page_number=1, page_size=100), headers(yida.GetMeCorpSubmissionHeaders, token), _runtime()
    )
    assert any(s.process_instance_id == process_id for s in mine.body.data)
    by_ids = sdk.get_instances_by_id_list_with_options(
        yida.GetInstancesByIdListRequest(app_type=APP, user_id="zhangsan", process_instance_ids=process_id),
        headers(yida.GetInstancesByIdListHeaders, token),
        _runtime(),
    )
    assert by_ids.body.result[0].instance_status == "COMPLETED" and by_ids.body.result[0].approved_result == "agree"
    copies = sdk.get_notify_me_with_options(
        "zhangsan", yida.GetNotifyMeRequest(app_types=APP, page_number=1, page_size=10), headers(yida.GetNotifyMeHeaders, token), _runtime()
    )
    assert copies.body.total_count == 0, "the leave flow copies nobody"


def test_insert_or_update_and_the_advanced_queries(sdk, token):
    condition = json.dumps([{"key": "textField_k1a2b3c4", "value": "回形针", "type": "TEXT", "operator": "eq", "componentName": "TextField"}])
    first = sdk.create_or_update_form_data_with_options(
        yida.CreateOrUpdateFormDataRequest(
            app_type=APP, form_uuid=FORM, user_id="zhangsan", search_condition=condition,
            form_data_json=json.dumps({"textField_k1a2b3c4": "回形针", "numberField_k1a2b3c5": 1}),
        ),
        headers(yida.CreateOrUpdateFormDataHeaders, token),
        _runtime(),
    )
    second = sdk.create_or_update_form_data_with_options(
        yida.CreateOrUpdateFormDataRequest(
            app_type=APP, form_uuid=FORM, user_id="zhangsan", search_condition=condition, form_data_json=json.dumps({"numberField_k1a2b3c5": 2})
        ),
        headers(yida.CreateOrUpdateFormDataHeaders, token),
        _runtime(),
    )
    assert first.body.result == second.body.result, "the second call updates the record the first made"

    page = sdk.search_form_data_second_generation_with_options(
        yida.SearchFormDataSecondGenerationRequest(app_type=APP, form_uuid=FORM, user_id="zhangsan", search_condition=condition, page_number=1, page_size=10),
        headers(yida.SearchFormDataSecondGenerationHeaders, token),
        _runtime(),
    )
    assert page.body.total_count == 1
    assert page.body.data[0].form_instance_id == first.body.result
    assert page.body.data[0].form_data["numberField_k1a2b3c5"] == 2

    seeded = json.dumps([{"key": "textField_k1a2b3c4", "value": "签字笔", "type": "TEXT", "operator": "eq", "componentName": "TextField"}])
    with_tables = sdk.search_form_data_second_generation_with_options(
        yida.SearchFormDataSecondGenerationRequest(app_type=APP, form_uuid=FORM, user_id="zhangsan", search_condition=seeded),
        headers(yida.SearchFormDataSecondGenerationHeaders, token),
        _runtime(),
    )
    without = sdk.search_form_data_second_generation_no_table_field_with_options(
        yida.SearchFormDataSecondGenerationNoTableFieldRequest(app_type=APP, form_uuid=FORM, user_id="zhangsan", search_condition=seeded),
        headers(yida.SearchFormDataSecondGenerationNoTableFieldHeaders, token),
        _runtime(),
    )
    assert "tableField_k1a2b3c9" in with_tables.body.data[0].form_data
    assert "tableField_k1a2b3c9" not in without.body.data[0].form_data


def test_activities_running_task_list_and_copies(sdk, token):
    acts = sdk.get_activity_list_with_options(
        yida.GetActivityListRequest(app_type=APP, user_id="zhangsan", process_code=LEAVE_PROCESS), headers(yida.GetActivityListHeaders, token), _runtime()
    )
    assert len(acts.body.result) >= 1 and all(a.activity_id and a.activity_name for a in acts.body.result)
    ids = []
    for reason in ("甲", "乙"):
        ids.append(
            start_leave(sdk, token, {"textField_l1a2b3c4": reason})
        )
    tasks = sdk.get_running_task_list_with_options(
        yida.GetRunningTaskListRequest(app_type=APP, user_id="zhangsan", process_instance_id_list=ids),
        headers(yida.GetRunningTaskListHeaders, token),
        _runtime(),
    )
    assert sorted(t.process_instance_id for t in tasks.body.result) == sorted(ids)
    assert all(t.task_id and t.actual_action_executor_id for t in tasks.body.result)
    copies = sdk.get_task_copies_with_options(
        yida.GetTaskCopiesRequest(app_type=APP, user_id="zhangsan", page_number=1, page_size=10), headers(yida.GetTaskCopiesHeaders, token), _runtime()
    )
    assert copies.body.total_count == 0 and copies.body.page_number == 1


def save(sdk, token, data, user="zhangsan"):
    return sdk.save_form_data_with_options(
        yida.SaveFormDataRequest(app_type=APP, form_uuid=FORM, user_id=user, form_data_json=json.dumps(data)),
        headers(yida.SaveFormDataHeaders, token),
        _runtime(),
    ).body.result


def running_tasks(sdk, token, process_id):
    return sdk.get_running_tasks_with_options(
        yida.GetRunningTasksRequest(app_type=APP, process_instance_id=process_id, user_id="zhangsan"),
        headers(yida.GetRunningTasksHeaders, token),
        _runtime(),
    ).body.result


def test_operation_logs_record_who_wrote_which_fields(sdk, token):
    first = save(sdk, token, {"textField_k1a2b3c4": "日志", "numberField_k1a2b3c5": 1})
    sdk.update_form_data_with_options(
        yida.UpdateFormDataRequest(app_type=APP, form_instance_id=first, user_id="lisi", update_form_data_json=json.dumps({"numberField_k1a2b3c5": 2})),
        headers(yida.UpdateFormDataHeaders, token),
        _runtime(),
    )
    second = save(sdk, token, {"textField_k1a2b3c4": "日志二"}, user="wangwu")
    logs = sdk.list_operation_logs_with_options(
        yida.ListOperationLogsRequest(app_type=APP, form_uuid=FORM, user_id="zhangsan", form_instance_id_list=[first, second]),
        headers(yida.ListOperationLogsHeaders, token),
        _runtime(),
    ).body.operation_log_map
    assert [(e["operationType"], e["operator"]) for e in logs[first]] == [("create", "zhangsan"), ("update", "lisi")]
    assert logs[first][1]["fieldIds"] == ["numberField_k1a2b3c5"]
    assert logs[first][1]["operatorName"] == "李四"
    assert [(e["operationType"], e["operator"]) for e in logs[second]] == [("create", "wangwu")]

    with pytest.raises(TeaException) as e:
        sdk.list_operation_logs_with_options(
            yida.ListOperationLogsRequest(app_type=APP, form_uuid=FORM, user_id="zhangsan", form_instance_id_list=["FINST-NOPE"]),
            headers(yida.ListOperationLogsHeaders, token),
            _runtime(),
        )
    assert e.value.code == "TIANSHU_000003" and e.value.data["statusCode"] == 400


def test_batch_update_by_instance_map(sdk, token):
    a = save(sdk, token, {"textField_k1a2b3c4": "映射甲", "numberField_k1a2b3c5": 1})
    b = save(sdk, token, {"textField_k1a2b3c4": "映射乙", "numberField_k1a2b3c5": 1})
    done = sdk.batch_update_form_data_by_instance_map_with_options(
        yida.BatchUpdateFormDataByInstanceMapRequest(
            app_type=APP,
            form_uuid=FORM,
            user_id="zhangsan",
            ignore_empty=True,
            update_form_data_json_map={a: json.dumps({"numberField_k1a2b3c5": 5}), b: json.dumps({"numberField_k1a2b3c5": 6, "textField_k1a2b3c4": ""})},
        ),
        headers(yida.BatchUpdateFormDataByInstanceMapHeaders, token),
        _runtime(),
    )
    assert sorted(done.body.result) == sorted([a, b])
    got = sdk.batch_get_form_data_by_id_list_with_options(
        yida.BatchGetFormDataByIdListRequest(app_type=APP, form_uuid=FORM, user_id="zhangsan", form_instance_id_list=[a, b]),
        headers(yida.BatchGetFormDataByIdListHeaders, token),
        _runtime(),
    ).body.result
    assert [(r.form_data["textField_k1a2b3c4"], r.form_data["numberField_k1a2b3c5"]) for r in got] == [("映射甲", 5), ("映射乙", 6)]

    # An instance of another form is refused before anything is written.
    leave = start_leave(sdk, token, {"textField_l1a2b3c4": "映射"})
    with pytest.raises(TeaException) as e:
        sdk.batch_update_form_data_by_instance_map_with_options(
            yida.BatchUpdateFormDataByInstanceMapRequest(
                app_type=APP, form_uuid=FORM, user_id="zhangsan", update_form_data_json_map={a: json.dumps({"numberField_k1a2b3c5": 7}), leave: "{}"}
            ),
            headers(yida.BatchUpdateFormDataByInstanceMapHeaders, token),
            _runtime(),
        )
    assert e.value.code == "TIANSHU_000002" and e.value.data["statusCode"] == 400


def test_batch_and_platform_task_execution(sdk, token):
    ids = [start_leave(sdk, token, {"textField_l1a2b3c4": f"批审{i}"}) for i in range(2)]
    tasks = [running_tasks(sdk, token, i)[0] for i in ids]
    approver = tasks[0].actual_actioner_id
    listed = [{"processInstanceId": t.process_instance_id, "taskId": t.task_id} for t in tasks]
    listed.append({"processInstanceId": ids[0], "taskId": "999999999"})
    counts = sdk.execute_batch_task_with_options(
        yida.ExecuteBatchTaskRequest(app_type=APP, user_id=approver, out_result="AGREE", remark="批量同意", task_information_list=json.dumps(listed)),
        headers(yida.ExecuteBatchTaskHeaders, token),
        _runtime(),
    ).body
    assert (counts.total, counts.success_number, counts.fail_number) == (3, 2, 1)
    assert all(running_tasks(sdk, token, i) == [] for i in ids)

    rejected = start_leave(sdk, token, {"textField_l1a2b3c4": "平台任务"})
    with pytest.raises(TeaException) as e:
        sdk.execute_platform_task_with_options(
            yida.ExecutePlatformTaskRequest(app_type=APP, user_id="wangwu", process_instance_id=rejected, out_result="DISAGREE"),
            headers(yida.ExecutePlatformTaskHeaders, token),
            _runtime(),
        )
    assert e.value.code == "TIANSHU_000002", "wangwu holds no task on it"
    answer = sdk.execute_platform_task_with_options(
        yida.ExecutePlatformTaskRequest(app_type=APP, user_id=approver, process_instance_id=rejected, out_result="DISAGREE", remark="不批"),
        headers(yida.ExecutePlatformTaskHeaders, token),
        _runtime(),
    )
    assert answer.status_code == 200

    definition = sdk.get_process_definition_with_options(
        rejected, yida.GetProcessDefinitionRequest(app_type=APP, user_id="zhangsan"), headers(yida.GetProcessDefinitionHeaders, token), _runtime()
    ).body
    assert definition.process_instance_id == rejected and definition.form_uuid == LEAVE_FORM
    assert definition.status == "COMPLETED" and definition.out_result == "disagree"
    assert definition.originator.user_id == "zhangsan" and definition.originator.display_name == "张三"
    handled = [t for t in definition.tasks if t.actioner_id == approver]
    assert handled and handled[0].status == "COMPLETED" and handled[0].activity.activity_name == "主管审批"
    assert isinstance(handled[0].task_id, int)
    assert definition.variables["textField_l1a2b3c4"] == "平台任务"


def test_field_definitions_and_form_base_infos(sdk, token):
    fields = sdk.get_field_def_by_uuid_with_options(
        yida.GetFieldDefByUuidRequest(app_type=APP, form_uuid=FORM, user_id="zhangsan"), headers(yida.GetFieldDefByUuidHeaders, token), _runtime()
    ).body
    assert fields.success is True
    by_id = {f.field_id: f for f in fields.result}
    assert by_id["textField_k1a2b3c4"].label["zh_CN"] == "物品" and by_id["textField_k1a2b3c4"].props["required"] is True
    assert [o["value"] for o in by_id["selectField_k1a2b3c6"].props["dataSource"]] == ["采购部", "销售部"]
    columns = json.loads(by_id["tableField_k1a2b3c9"].children)
    assert [c["fieldId"] for c in columns] == ["textField_k1a2b3d0", "numberField_k1a2b3d1"]

    page = sdk.page_form_base_infos_with_options(
        yida.PageFormBaseInfosRequest(app_key=APP, user_id="zhangsan", form_type_list=["process"], page_index=1, page_size=10),
        headers(yida.PageFormBaseInfosHeaders, token),
        _runtime(),
    ).body
    assert page.result.total_count == 1 and page.result.data[0].form_uuid == LEAVE_FORM and page.result.data[0].title.zh_cn == "请假申请"
    both = sdk.page_form_base_infos_with_options(
        yida.PageFormBaseInfosRequest(app_key=APP, user_id="zhangsan", page_index=2, page_size=1),
        headers(yida.PageFormBaseInfosHeaders, token),
        _runtime(),
    ).body
    assert both.result.total_count == 2 and both.result.current_page == 2 and len(both.result.data) == 1


def test_employee_field_values_and_the_query_without_sub_forms(sdk, token):
    people = sdk.search_employee_field_values_with_options(
        yida.SearchEmployeeFieldValuesRequest(
            app_type=APP,
            form_uuid=FORM,
            user_id="zhangsan",
            target_field_json=json.dumps(["employeeField_k1a2b3c8"]),
            search_field_json=json.dumps({"selectField_k1a2b3c6": "采购部"}),
        ),
        headers(yida.SearchEmployeeFieldValuesHeaders, token),
        _runtime(),
    ).body.result
    assert sorted(json.loads(people)["employeeField_k1a2b3c8"]) == ["lisi", "zhangsan"]
    with pytest.raises(TeaException) as e:
        sdk.search_employee_field_values_with_options(
            yida.SearchEmployeeFieldValuesRequest(app_type=APP, form_uuid=FORM, user_id="zhangsan", target_field_json=json.dumps(["textField_k1a2b3c4"])),
            headers(yida.SearchEmployeeFieldValuesHeaders, token),
            _runtime(),
        )
    assert e.value.code == "TIANSHU_000002"

    page = sdk.search_form_data_removal_table_data_with_options(
        yida.SearchFormDataRemovalTableDataRequest(
            app_type=APP, form_uuid=FORM, user_id="zhangsan", search_field_json=json.dumps({"textField_k1a2b3c4": "签字笔"}), page_number=1, page_size=10
        ),
        headers(yida.SearchFormDataRemovalTableDataHeaders, token),
        _runtime(),
    ).body
    assert page.total_count == 1 and page.page_number == 1 and page.has_more_data is False
    row = page.data[0]
    assert row.form_data["numberField_k1a2b3c5"] == 20 and "tableField_k1a2b3c9" not in row.form_data
    assert row.originator.user_id == "zhangsan" and row.originator.name.name_in_chinese == "张三"
    assert row.modify_user.user_id == "zhangsan" and isinstance(row.id, int)
    paged = sdk.search_form_data_removal_table_data_with_options(
        yida.SearchFormDataRemovalTableDataRequest(app_type=APP, form_uuid=FORM, user_id="zhangsan", page_number=1, page_size=1),
        headers(yida.SearchFormDataRemovalTableDataHeaders, token),
        _runtime(),
    ).body
    assert paged.has_more_data is True and len(paged.data) == 1


def test_apps_navigations_designs_buttons_and_preview(sdk, token):
    apps = sdk.list_application_with_options(
        yida.ListApplicationRequest(user_id="zhangsan", page_number=1, page_size=10), headers(yida.ListApplicationHeaders, token), _runtime()
    ).body
    assert apps.total_count == 1 and apps.page_number == 1
    assert apps.data[0].app_type == APP and apps.data[0].name == "行政服务" and apps.data[0].application_status == "ONLINE"
    none = sdk.list_application_with_options(
        yida.ListApplicationRequest(user_id="zhangsan", app_name_search_keyword="不存在"), headers(yida.ListApplicationHeaders, token), _runtime()
    ).body
    assert none.total_count == 0 and none.data == []

    nav = sdk.list_navigation_by_form_type_with_options(
        yida.ListNavigationByFormTypeRequest(app_type=APP, user_id="zhangsan", form_type="process"), headers(yida.ListNavigationByFormTypeHeaders, token), _runtime()
    ).body.result
    assert [(n.form_uuid, n.process_code, n.title.name_in_chinese) for n in nav] == [(LEAVE_FORM, LEAVE_PROCESS, "请假申请")]
    with pytest.raises(TeaException) as e:
        sdk.list_navigation_by_form_type_with_options(
            yida.ListNavigationByFormTypeRequest(app_type=APP, user_id="zhangsan", form_type="report"), headers(yida.ListNavigationByFormTypeHeaders, token), _runtime()
        )
    assert e.value.code == "TIANSHU_000002"

    design = sdk.get_process_design_by_code_with_options(
        yida.GetProcessDesignByCodeRequest(app_type=APP, user_id="zhangsan", process_code=LEAVE_PROCESS), headers(yida.GetProcessDesignByCodeHeaders, token), _runtime()
    ).body
    assert design.props.process_code == LEAVE_PROCESS and design.props.binding_form == LEAVE_FORM
    by_id = {n.node_id: n for n in design.nodes}
    approval = next(n for n in design.nodes if n.type == "approval")
    assert approval.name.zh_cn == "主管审批" and approval.props["approvers"] == ["lisi"]
    assert by_id[approval.prev_id].type == "start" and all(by_id[n].type == "end" for n in approval.next_id)

    # The numeric process id from an instance's definition leads to the same design.
    process_id = start_leave(sdk, token, {"textField_l1a2b3c4": "设计"})
    number = sdk.get_process_definition_with_options(
        process_id, yida.GetProcessDefinitionRequest(app_type=APP, user_id="zhangsan"), headers(yida.GetProcessDefinitionHeaders, token), _runtime()
    ).body.process_id
    same = sdk.get_process_design_with_options(number, yida.GetProcessDesignRequest(app_type=APP, user_id="zhangsan"), headers(yida.GetProcessDesignHeaders, token), _runtime()).body
    assert [n.node_id for n in same.nodes] == [n.node_id for n in design.nodes]

    buttons = sdk.get_activity_button_list_with_options(
        APP, LEAVE_PROCESS, approval.node_id, yida.GetActivityButtonListRequest(user_id="zhangsan"), headers(yida.GetActivityButtonListHeaders, token), _runtime()
    ).body.result
    assert [b.alias_in_chinese for b in buttons] == ["同意", "拒绝", "转交"]
    with pytest.raises(TeaException) as e:
        sdk.get_activity_button_list_with_options(
            APP, LEAVE_PROCESS, "nope", yida.GetActivityButtonListRequest(user_id="zhangsan"), headers(yida.GetActivityButtonListHeaders, token), _runtime()
        )
    assert e.value.code == "TIANSHU_000002"

    before = sdk.get_instance_id_list_with_options(
        yida.GetInstanceIdListRequest(app_type=APP, form_uuid=LEAVE_FORM, user_id="zhangsan", page_number=1, page_size=100),
        headers(yida.GetInstanceIdListHeaders, token),
        _runtime(),
    ).body.total_count
    preview = sdk.preview_published_process_with_options(
        yida.PreviewPublishedProcessRequest(
            app_type=APP, form_uuid=LEAVE_FORM, process_code=LEAVE_PROCESS, user_id="zhangsan", form_data_json=json.dumps({"textField_l1a2b3c4": "预览"})
        ),
        headers(yida.PreviewPublishedProcessHeaders, token),
        _runtime(),
    ).body.result
    assert [(r.type, r.operator_user_id) for r in preview] == [("HISTORY", "zhangsan"), ("TODO", "lisi")]
    assert preview[1].show_name == "主管审批" and preview[1].activity_id == approval.node_id
    after = sdk.get_instance_id_list_with_options(
        yida.GetInstanceIdListRequest(app_type=APP, form_uuid=LEAVE_FORM, user_id="zhangsan", page_number=1, page_size=100),
        headers(yida.GetInstanceIdListHeaders, token),
        _runtime(),
    ).body.total_count
    assert after == before, "a preview stores nothing"


def _fidelity_rows():
    """`| method | route | status |` rows of the SDK table in docs/fidelity.md."""
    import pathlib
    import re

    doc = (pathlib.Path(__file__).resolve().parents[2] / "docs" / "fidelity.md").read_text(encoding="utf-8")
    return {m.group(1): m.group(2) for m in re.finditer(r"^\| `(\w+)` \| [A-Z]+ `[^`]+` \| (.+?) \|$", doc, re.M)}


def _sdk_methods():
    return sorted(
        name.removesuffix("_with_options")
        for name in dir(yida_client.Client)
        if name.endswith("_with_options") and not name.startswith("_")
    )


def test_the_fidelity_table_lists_every_sdk_method_and_tests_every_served_one():
    import pathlib

    rows = _fidelity_rows()
    methods = _sdk_methods()
    assert sorted(rows) == methods, "docs/fidelity.md must list each yida_1_0 method exactly once"
    tests = "".join(p.read_text(encoding="utf-8") for p in pathlib.Path(__file__).parent.glob("test_*.py"))
    untested = [m for m, status in rows.items() if status.startswith("served") and f".{m}_with_options(" not in tests]
    assert untested == []


def test_every_method_not_served_answers_in_the_open_api_shape(sdk, token):
    import inspect

    for method, status in _fidelity_rows().items():
        if status.startswith("served"):
            continue
        call = getattr(sdk, f"{method}_with_options")
        args = []
        for p in inspect.signature(call).parameters.values():
            if p.name == "request":
                args.append(p.annotation())
            elif p.name == "headers":
                args.append(headers(p.annotation, token))
            elif p.name == "runtime":
                args.append(_runtime())
            else:
                args.append("x")
        with pytest.raises(TeaException) as e:
            call(*args)
        assert (method, e.value.code, e.value.data["statusCode"]) == (method, "InvalidAction.NotFound", 404)


class _Connector(http.server.BaseHTTPRequestHandler):
    """The service an automation's HTTP connector calls: `/ok` answers 200 JSON, `/down` 500."""

    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        status, body = (200, b'{"accepted": true}') if self.path.startswith("/ok") else (500, b"down")
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def test_the_automation_log_lists_runs_and_their_nodes(tmp_path):
    with receiver(_Connector) as url:
        _automation_log(tmp_path, url)


def _automation_log(tmp_path, url):
    scenario = tmp_path / "automations.toml"
    scenario.write_text(
        f"""
[[users]]
id = "zhangsan"
name = "张三"
[yida]
default_user = "zhangsan"
app_keys = [{{ app_key = "k", app_secret = "s" }}]
[[yida.apps]]
app_type = "{APP}"
[[yida.apps.forms]]
form_uuid = "{FORM}"
name = "领用"
components = [{{ id = "textField_k1a2b3c4", label = "物品", type = "TextField" }}]
automations = [
  {{ name = "同步到ERP", on = ["create"], call = {{ url = "{url}/ok", body = {{ item = "{{{{formData.textField_k1a2b3c4}}}}" }} }} }},
  {{ name = "通知仓库", call = {{ url = "{url}/down" }} }},
]
""",
        encoding="utf-8",
    )
    with launch("--scenario", str(scenario)) as base:
        cfg = config(base)
        tok = oauth2_client.Client(cfg).get_access_token(oauth2_models.GetAccessTokenRequest(app_key="k", app_secret="s")).body.access_token
        client = yida_client.Client(cfg)
        saved = client.save_form_data_with_options(
            yida.SaveFormDataRequest(app_type=APP, form_uuid=FORM, user_id="zhangsan", form_data_json=json.dumps({"textField_k1a2b3c4": "白板"})),
            headers(yida.SaveFormDataHeaders, tok), _runtime()).body.result
        wait = urllib.request.Request(base + "/__emu/deliveries/wait?timeout_ms=5000", data=b"{}", method="POST")
        assert json.loads(urllib.request.urlopen(wait, timeout=10).read())["idle"] is True

        def page(**kw):
            return client.page_auto_flow_log_with_options(
                yida.PageAutoFlowLogRequest(**{"app_type": APP, "user_id": "zhangsan", "page_number": 1, "page_size": 10, **kw}),
                headers(yida.PageAutoFlowLogHeaders, tok), _runtime()).body

        runs = page()
        assert runs.total_count == 2 and runs.page_number == 1 and runs.has_more_data is False
        by_status = {r.status: r for r in runs.data}
        assert sorted(by_status) == [1, 2], "one run succeeded, one failed"
        ok, failed = by_status[1], by_status[2]
        assert (ok.flag, failed.flag) == ("SUCCESS", "FAILED")
        assert ok.src_proc_instance_id == saved and ok.app_type == APP
        assert ok.process_code.startswith("LPROC-") and ok.process_code != failed.process_code
        assert ok.finish_time_gmt and ok.elapsed_time_gmt >= 0
        assert [r.proc_instance_id for r in page(status=2).data] == [failed.proc_instance_id]
        assert [r.proc_instance_id for r in page(process_code=ok.process_code).data] == [ok.proc_instance_id]
        assert page(form_uuid=FORM, start_time_gmt="2000-01-01 00:00:00", end_time_gmt="2000-01-02").total_count == 0
        assert page(page_size=1).has_more_data is True

        def detail(run_id):
            return client.get_auto_flow_log_detail_with_options(
                yida.GetAutoFlowLogDetailRequest(proc_instance_id=run_id, user_id="zhangsan", page_number=1, page_size=10, corp_id="c", token="t"),
                headers(yida.GetAutoFlowLogDetailHeaders, tok), _runtime()).body

        nodes = detail(ok.proc_instance_id)
        assert [n.activity_key for n in nodes.data] == ["trigger", "http_connector"]
        trigger, connector = nodes.data
        assert trigger.input_params["formInstanceId"] == saved and trigger.input_params["event"] == "create"
        assert connector.name == "同步到ERP" and connector.status == "SUCCESS"
        assert connector.input_params["url"] == f"{url}/ok" and connector.input_params["body"] == {"item": "白板"}
        assert connector.output_params == {"status": 200, "body": '{"accepted": true}'}
        down = detail(failed.proc_instance_id).data[1]
        assert (down.status, down.output_params["status"]) == ("FAILED", 500)

        with pytest.raises(TeaException) as unknown:
            detail("no-such-run")
        assert (unknown.value.code, unknown.value.data["statusCode"]) == ("TIANSHU_000003", 400)
        with pytest.raises(TeaException) as bad:
            page(start_time_gmt="yesterday")
        assert (bad.value.code, bad.value.data["statusCode"]) == ("TIANSHU_000002", 400)
